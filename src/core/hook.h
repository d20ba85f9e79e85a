// Typed hooks: an event is a struct, handlers run in priority order (higher
// first) and the first that returns kHandled stops the chain. Adding returns a
// token; dropping the token removes the handler, so a module that is stopped
// leaves nothing behind. Hooks are filled at start and then only read.
//
// A handler that throws is a module bug: run() logs it, counts it and goes
// on with the next handler, so one broken module neither closes the
// sender's stream nor stops the features after it.
#pragma once

#include <algorithm>
#include <atomic>
#include <exception>
#include <functional>
#include <memory>
#include <vector>

#include <spdlog/spdlog.h>

namespace tern::core {

enum class Verdict { kPass, kHandled };

class HookToken {
 public:
  HookToken() = default;
  explicit HookToken(std::function<void()> remove) : remove_(std::move(remove)) {}
  HookToken(HookToken&& o) noexcept : remove_(std::exchange(o.remove_, nullptr)) {}
  HookToken& operator=(HookToken&& o) noexcept {
    reset();
    remove_ = std::exchange(o.remove_, nullptr);
    return *this;
  }
  ~HookToken() { reset(); }
  void reset() {
    if (remove_) std::exchange(remove_, nullptr)();
  }

 private:
  std::function<void()> remove_;
};

template <class Event>
class Hook {
 public:
  using Handler = std::function<Verdict(Event&)>;

  [[nodiscard]] HookToken add(Handler h, int priority = 0) {
    auto id = ++next_id_;
    entries_.push_back({priority, id, std::move(h)});
    std::stable_sort(entries_.begin(), entries_.end(),
                     [](const Entry& a, const Entry& b) { return a.priority > b.priority; });
    return HookToken([this, id] {
      std::erase_if(entries_, [id](const Entry& e) { return e.id == id; });
    });
  }

  Verdict run(Event& e) const {
    for (const auto& entry : entries_) {
      try {
        if (entry.handler(e) == Verdict::kHandled) return Verdict::kHandled;
      } catch (const std::exception& ex) {
        failures_.fetch_add(1, std::memory_order_relaxed);
        spdlog::error("hook handler failed: {}", ex.what());
      } catch (...) {
        // Whatever a handler throws, the sender's stream stays up.
        failures_.fetch_add(1, std::memory_order_relaxed);
        spdlog::error("hook handler failed with a non-standard exception");
      }
    }
    return Verdict::kPass;
  }
  bool empty() const { return entries_.empty(); }
  // Handlers that threw since start (for metrics and tests).
  unsigned long failures() const { return failures_.load(std::memory_order_relaxed); }

 private:
  struct Entry {
    int priority;
    unsigned long id;
    Handler handler;
  };
  std::vector<Entry> entries_;
  unsigned long next_id_ = 0;
  mutable std::atomic<unsigned long> failures_{0};
};

}  // namespace tern::core
