// A token bucket of bytes per second with a second's worth of burst, for
// the s2s rate limits (s2s.max_bytes_per_second on reads,
// s2s.max_write_bytes_per_second on writes). It starts full. Time is
// passed in, so that tests need no clock; the caller serialises access.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>

namespace tern::stream {

class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;

  TokenBucket(double bytes_per_second, Clock::time_point now)
      : rate_(bytes_per_second), tokens_(bytes_per_second), at_(now) {}

  // Takes `bytes` whatever the level (the bucket may go into debt: a
  // stanza is never split) and returns how long until it is out of debt:
  // zero while tokens remain. Reads use this: read, then pause.
  Clock::duration charge(std::size_t bytes, Clock::time_point now) {
    refill(now);
    tokens_ -= static_cast<double>(bytes);
    return wait(now);
  }

  // How long until something may be taken (zero: now). Writes use this
  // before each stanza, and charge() once it goes.
  Clock::duration wait(Clock::time_point now) {
    refill(now);
    if (tokens_ >= 0) return Clock::duration::zero();
    // Rounded up: waking a nanosecond early would find the bucket still in
    // debt and spin.
    auto d = std::chrono::duration<double>(-tokens_ / rate_);
    return std::chrono::ceil<Clock::duration>(d);
  }

  Clock::time_point last_use() const { return at_; }

 private:
  void refill(Clock::time_point now) {
    if (now <= at_) return;
    tokens_ = std::min(rate_, tokens_ + std::chrono::duration<double>(now - at_).count() * rate_);
    at_ = now;
  }

  double rate_;
  double tokens_;
  Clock::time_point at_;
};

}  // namespace tern::stream
