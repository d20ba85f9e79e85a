#include "stream/auth_throttle.h"

#include <algorithm>

namespace tern::stream {
namespace {
constexpr auto kForgetAfter = std::chrono::minutes(5);
constexpr int kFreeFailures = 3;  // typos are free
constexpr auto kMaxDelay = std::chrono::milliseconds(10000);
}  // namespace

std::chrono::milliseconds AuthThrottle::record_failure(const std::string& ip, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  if (by_ip_.size() > 100000) {
    std::erase_if(by_ip_, [&](const auto& kv) { return now - kv.second.last > kForgetAfter; });
  }
  auto& e = by_ip_[ip];
  if (now - e.last > kForgetAfter) e.failures = 0;
  e.last = now;
  ++e.failures;
  if (e.failures <= kFreeFailures) return std::chrono::milliseconds(0);
  // 250 ms, 500 ms, 1 s, … up to 10 s per further failure.
  int shift = std::min(e.failures - kFreeFailures - 1, 10);
  return std::min(std::chrono::milliseconds(250) * (1 << shift), kMaxDelay);
}

void AuthThrottle::record_success(const std::string& ip) {
  std::lock_guard lock(mutex_);
  by_ip_.erase(ip);
}

}  // namespace tern::stream
