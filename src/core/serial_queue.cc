#include "core/serial_queue.h"

#include "core/log.h"

namespace tern::core {
namespace {

awaitable<void> run_sync(std::function<void()> f) {
  f();
  co_return;
}

}  // namespace

SerialQueue::Task SerialQueue::from_sync(std::function<void()> f) {
  return [f = std::move(f)] { return run_sync(f); };
}

SerialQueue::Lane& SerialQueue::lane_or_start(std::string_view key) {
  auto it = lanes_.find(key);
  if (it != lanes_.end()) return it->second;
  it = lanes_.emplace(std::string(key), Lane{}).first;
  // The lane exists from now on, so what is queued behind it waits even
  // before the drain has started.
  // The ticket rides in the completion handler: the lane counts as pending
  // work until its drain has finished.
  asio::co_spawn(executor_, drain(std::string(key)),
                 [t = pending_ ? pending_->take() : WorkCounter::Ticket{}](std::exception_ptr) {});
  return it->second;
}

void SerialQueue::push_back(std::string_view key, Task task) {
  lane_or_start(key).pending.push_back(std::move(task));
}

void SerialQueue::push_next(std::string_view key, Task task) {
  Lane& lane = lane_or_start(key);
  lane.pending.insert(lane.pending.begin() + static_cast<std::ptrdiff_t>(lane.next_at), std::move(task));
  ++lane.next_at;
}

awaitable<void> SerialQueue::drain(std::string key) {
  for (;;) {
    auto it = lanes_.find(key);
    if (it->second.pending.empty()) {
      lanes_.erase(it);
      co_return;
    }
    Task task = std::move(it->second.pending.front());
    it->second.pending.pop_front();
    it->second.next_at = 0;
    try {
      co_await task();
    } catch (const std::exception& e) {
      // One failed item (a storage error, a module bug) must not hold back
      // the account's later stanzas.
      ++failures_;
      spdlog::error("serial queue: an item for {} failed: {}", key, e.what());
    } catch (...) {
      ++failures_;
      spdlog::error("serial queue: an item for {} failed", key);
    }
  }
}

}  // namespace tern::core
