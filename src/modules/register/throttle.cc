#include "modules/register/throttle.h"

namespace tern::modules::reg {
namespace {

// Every this many calls the whole table is swept, so addresses that tried
// once and never came back do not stay forever.
constexpr std::size_t kSweepEvery = 256;

}  // namespace

void RegistrationThrottle::forget_old(std::deque<Clock::time_point>& stamps,
                                      Clock::time_point now) const {
  while (!stamps.empty() && now - stamps.front() >= window_) stamps.pop_front();
}

void RegistrationThrottle::sweep(Clock::time_point now) {
  for (auto it = attempts_.begin(); it != attempts_.end();) {
    forget_old(it->second, now);
    if (it->second.empty()) {
      it = attempts_.erase(it);
    } else {
      ++it;
    }
  }
}

bool RegistrationThrottle::try_acquire(const std::string& ip, Clock::time_point now) {
  if (limit_ == 0) return true;
  std::lock_guard lock(mutex_);
  if (++calls_since_sweep_ >= kSweepEvery) {
    calls_since_sweep_ = 0;
    sweep(now);
  }
  auto& stamps = attempts_[ip];
  forget_old(stamps, now);
  if (stamps.size() >= limit_) return false;
  stamps.push_back(now);
  return true;
}

void RegistrationThrottle::refund(const std::string& ip) {
  if (limit_ == 0) return;
  std::lock_guard lock(mutex_);
  auto it = attempts_.find(ip);
  if (it == attempts_.end() || it->second.empty()) return;
  it->second.pop_back();
  if (it->second.empty()) attempts_.erase(it);
}

std::size_t RegistrationThrottle::tracked() const {
  std::lock_guard lock(mutex_);
  return attempts_.size();
}

}  // namespace tern::modules::reg
