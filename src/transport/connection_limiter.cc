#include "transport/connection_limiter.h"

namespace tern::transport {

bool ConnectionLimiter::allow(const std::string& ip, Clock::time_point now) {
  constexpr auto kWindow = std::chrono::minutes(1);
  std::lock_guard lock(mutex_);
  if (by_ip_.size() > 100000)
    std::erase_if(by_ip_, [&](const auto& kv) { return now - kv.second.start >= kWindow; });
  auto& w = by_ip_[ip];
  if (now - w.start >= kWindow) w = Window{now, 0};
  return ++w.count <= per_minute_;
}

}  // namespace tern::transport
