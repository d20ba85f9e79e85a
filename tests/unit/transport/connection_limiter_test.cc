#include "transport/connection_limiter.h"

#include <gtest/gtest.h>

namespace tern::transport {
namespace {

using namespace std::chrono_literals;

TEST(ConnectionLimiter, RefusesPastTheRateAndForgetsAfterAMinute) {
  ConnectionLimiter limiter(3);
  auto t0 = ConnectionLimiter::Clock::now();
  EXPECT_TRUE(limiter.allow("192.0.2.1", t0));
  EXPECT_TRUE(limiter.allow("192.0.2.1", t0 + 1s));
  EXPECT_TRUE(limiter.allow("192.0.2.1", t0 + 2s));
  EXPECT_FALSE(limiter.allow("192.0.2.1", t0 + 3s));
  EXPECT_TRUE(limiter.allow("192.0.2.2", t0 + 3s)) << "other addresses are not affected";
  EXPECT_TRUE(limiter.allow("192.0.2.1", t0 + 61s)) << "a new minute starts afresh";
}

}  // namespace
}  // namespace tern::transport
