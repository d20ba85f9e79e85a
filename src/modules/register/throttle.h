// How many account creations one address may attempt in a sliding window
// (modules.register.per_ip_per_hour). Shared by every shard, so behind a
// mutex; the work under it is a few deque operations.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>

namespace tern::modules::reg {

class RegistrationThrottle {
 public:
  using Clock = std::chrono::steady_clock;

  // limit 0: no limit.
  RegistrationThrottle(std::size_t limit, Clock::duration window) : limit_(limit), window_(window) {}

  // Records one attempt from `ip` and returns true, or returns false (and
  // records nothing) when `ip` already made `limit` attempts in the window.
  bool try_acquire(const std::string& ip, Clock::time_point now);
  // Gives back the latest attempt of `ip` (one that failed on our side, not
  // the client's: a storage error).
  void refund(const std::string& ip);
  // Addresses with attempts still in the window (for tests and status).
  std::size_t tracked() const;

 private:
  void forget_old(std::deque<Clock::time_point>& stamps, Clock::time_point now) const;
  void sweep(Clock::time_point now);

  const std::size_t limit_;
  const Clock::duration window_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::deque<Clock::time_point>> attempts_;
  std::size_t calls_since_sweep_ = 0;
};

}  // namespace tern::modules::reg
