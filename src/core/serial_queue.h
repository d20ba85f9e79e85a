// Work that must run one item at a time per key, in the order it was queued,
// on one event loop: the stanzas and storage work of one account on one shard
// (RFC 6120 §10.1: stanzas from one entity to another arrive in the order
// sent). It knows keys and tasks, nothing of what they mean.
//
// An item is a coroutine; the next item of its key starts only when it has
// finished, so an item that awaits storage holds back the ones behind it.
// Keys with nothing queued cost nothing: `is_idle()` is the hot path's one
// test, and `run_in_order` runs at once when the key has nothing in flight.
//
// Not thread-safe: one loop (shard) owns a queue and is the only caller.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/asio.h"
#include "core/work_counter.h"

namespace tern::core {

class SerialQueue {
 public:
  using Task = std::function<awaitable<void>()>;

  // `pending`, if given, counts every lane with work queued or running, so
  // that shutdown waits for what is queued here too.
  explicit SerialQueue(asio::any_io_executor executor, WorkCounter* pending = nullptr)
      : executor_(std::move(executor)), pending_(pending) {}
  SerialQueue(const SerialQueue&) = delete;
  SerialQueue& operator=(const SerialQueue&) = delete;

  // Nothing queued or running under any key.
  bool is_idle() const { return lanes_.empty(); }
  // Something is queued or running under `key`.
  bool is_busy(std::string_view key) const { return lanes_.find(key) != lanes_.end(); }

  // The item running under `key` has queued work with push_next that has
  // not run yet: what it sends from now on must queue behind that work.
  bool has_queued_next(std::string_view key) const {
    auto it = lanes_.find(key);
    return it != lanes_.end() && it->second.next_at > 0;
  }

  // Runs `task` after everything queued under `key`.
  void push_back(std::string_view key, Task task);
  // Runs `task` right after the item now running under `key` (and after what
  // that item already queued this way), ahead of items queued behind it:
  // for work an item sets off, which is part of that item. With nothing
  // running under `key`, the same as push_back.
  void push_next(std::string_view key, Task task);
  // Runs `f` now if nothing is in flight under `key`, else queues it behind.
  template <class F>
  void run_in_order(std::string_view key, F&& f) {
    if (!is_busy(key)) {
      f();
      return;
    }
    push_back(key, from_sync(std::function<void()>(std::forward<F>(f))));
  }

  // A task that runs `f` (synchronous work) when its turn comes.
  static Task from_sync(std::function<void()> f);

  // Items that threw (each was logged; the queue went on).
  std::size_t failures() const { return failures_; }

 private:
  struct Lane {
    std::deque<Task> pending;
    std::size_t next_at = 0;  // where push_next inserts, in `pending`
  };
  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view key) const { return std::hash<std::string_view>{}(key); }
  };

  Lane& lane_or_start(std::string_view key);
  awaitable<void> drain(std::string key);

  asio::any_io_executor executor_;
  WorkCounter* pending_;
  std::unordered_map<std::string, Lane, KeyHash, std::equal_to<>> lanes_;
  std::size_t failures_ = 0;
};

}  // namespace tern::core
