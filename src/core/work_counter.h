// Counts work that is queued or running (a coroutine spawned for a module, a
// storage job on the blocking pool), so that shutdown can wait until all of
// it is done instead of dropping it. A Ticket is held by the work itself: it
// travels inside the posted closure or completion handler and gives its
// count back when that is destroyed — after it ran, or when its loop is torn
// down without running it.
#pragma once

#include <atomic>
#include <cstddef>
#include <utility>

namespace tern::core {

class WorkCounter {
 public:
  class Ticket {
   public:
    Ticket() = default;
    explicit Ticket(WorkCounter& c) : counter_(&c) { counter_->count_.fetch_add(1, std::memory_order_relaxed); }
    Ticket(Ticket&& o) noexcept : counter_(std::exchange(o.counter_, nullptr)) {}
    Ticket& operator=(Ticket&& o) noexcept {
      release();
      counter_ = std::exchange(o.counter_, nullptr);
      return *this;
    }
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;
    ~Ticket() { release(); }

   private:
    void release() {
      // release: whatever the work wrote happens-before a reader seeing 0.
      if (counter_) std::exchange(counter_, nullptr)->count_.fetch_sub(1, std::memory_order_release);
    }
    WorkCounter* counter_ = nullptr;
  };

  Ticket take() { return Ticket(*this); }
  // Work items queued or running now; any thread.
  std::size_t count() const { return count_.load(std::memory_order_acquire); }

 private:
  // Its own cache line: shards touch it from several threads.
  alignas(64) std::atomic<std::size_t> count_{0};
};

}  // namespace tern::core
