#include "tern-bench/worker.h"

#include <chrono>
#include <cstdio>
#include <exception>
#include <future>

namespace tern::bench {

Worker::Worker(int id_, const Env& env_) : id(id_), env(env_) {}

Worker::~Worker() {
  // Connections hold sockets of this io_context: they go first.
  connections.clear();
}

void spawn(Worker& w, awaitable<void> coro) {
  asio::co_spawn(w.ioc, std::move(coro), [](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      std::fprintf(stderr, "tern-bench: coroutine failed: %s\n", ex.what());
    }
  });
}

Connection& Worker::add_connection(std::int64_t user_index) {
  connections.push_back(std::make_unique<Connection>(*this, user_index));
  return *connections.back();
}

void Worker::start() {
  guard_.emplace(ioc.get_executor());
  spawn(*this, watchdog());
  thread_ = std::thread([this] {
    for (;;) {
      try {
        ioc.run();
        return;
      } catch (const std::exception& ex) {
        std::fprintf(stderr, "tern-bench: worker %d: %s\n", id, ex.what());
      }
    }
  });
}

void Worker::post(std::function<void()> fn) { asio::post(ioc, std::move(fn)); }

awaitable<void> Worker::watchdog() {
  // One timer for all connections: a deadline check every 250 ms costs far
  // less than a timer per connection.
  while (!stopping) {
    watchdog_timer_.expires_after(std::chrono::milliseconds(250));
    boost::system::error_code ec;
    co_await watchdog_timer_.async_wait(asio::redirect_error(use_awaitable, ec));
    if (stopping) break;
    auto now = Clock::now();
    for (auto& c : connections)
      if (c->is_open() && c->past_deadline(now)) c->expire();
  }
}

void Worker::stop_and_join() {
  if (!thread_.joinable()) return;
  std::promise<void> closed;
  post([this, &closed] {
    stopping = true;
    sending = false;
    watchdog_timer_.cancel();
    for (auto& c : connections) {
      if (!c->is_open()) continue;
      c->send_stream_end();
      c->abort();  // writes what is queued, then closes
    }
    closed.set_value();
  });
  closed.get_future().wait();
  guard_.reset();
  // Coroutines see their sockets closed and return; give them a moment.
  auto until = Clock::now() + std::chrono::seconds(3);
  while (!ioc.stopped() && Clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ioc.stop();
  thread_.join();
}

}  // namespace tern::bench
