#include "server/loop_calls.h"

#include <future>
#include <memory>
#include <thread>

#include "core/log.h"

namespace tern::server {
namespace {

std::future<void> post_call(asio::io_context& loop, std::function<void()> f) {
  auto done = std::make_shared<std::promise<void>>();
  auto result = done->get_future();
  asio::post(loop, [f = std::move(f), done] {
    try {
      f();
      done->set_value();
    } catch (...) {
      done->set_exception(std::current_exception());
    }
  });
  return result;
}

}  // namespace

void run_on(asio::io_context& loop, std::function<void()> f) { post_call(loop, std::move(f)).get(); }

bool run_on(asio::io_context& loop, std::function<void()> f, Deadline deadline) {
  auto result = post_call(loop, std::move(f));
  if (result.wait_until(deadline) != std::future_status::ready) return false;
  try {
    result.get();
  } catch (const std::exception& e) {
    spdlog::error("shard call failed: {}", e.what());
  }
  return true;
}

bool wait_until(Deadline deadline, const std::function<bool()>& done) {
  using namespace std::chrono_literals;
  for (;;) {
    if (done()) return true;
    if (Clock::now() >= deadline) return false;
    // Polling: what is awaited (counters reaching zero) has no one place
    // that could signal it, and a few milliseconds do not matter at stop.
    std::this_thread::sleep_for(5ms);
  }
}

}  // namespace tern::server
