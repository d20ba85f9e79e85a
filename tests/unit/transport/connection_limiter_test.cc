#include "transport/connection_limiter.h"

#include <gtest/gtest.h>

#include <string>

namespace tern::transport {
namespace {

using namespace std::chrono_literals;
using Clock = ConnectionLimiter::Clock;

core::IpBytes ip(const std::string& text) {
  auto bytes = core::parse_ip_address(text);
  EXPECT_TRUE(bytes) << text;
  return bytes.value_or(core::IpBytes{});
}

ConnectionLimits small_limits(double per_minute, double burst) {
  ConnectionLimits limits;
  limits.per_minute = per_minute;
  limits.burst = burst;
  return limits;
}

// Takes `n` connections from `address` at `now`; returns how many were allowed.
int admit_n(ConnectionLimiter& limiter, const std::string& address, int n, Clock::time_point now) {
  int allowed = 0;
  for (int i = 0; i < n; ++i) allowed += limiter.admit(ip(address), now).allowed ? 1 : 0;
  return allowed;
}

TEST(ConnectionLimiter, BurstIsAllowedAtOnceThenRefused) {
  ConnectionLimiter limiter(small_limits(60, 5));
  auto t0 = Clock::now();
  EXPECT_EQ(admit_n(limiter, "192.0.2.1", 5, t0), 5);
  EXPECT_FALSE(limiter.admit(ip("192.0.2.1"), t0).allowed);
  EXPECT_TRUE(limiter.admit(ip("192.0.2.2"), t0).allowed) << "other addresses are not affected";
}

TEST(ConnectionLimiter, BucketRefillsAtTheRateAndNeverAboveTheBurst) {
  ConnectionLimiter limiter(small_limits(60, 5));  // one token a second
  auto t0 = Clock::now();
  EXPECT_EQ(admit_n(limiter, "192.0.2.1", 6, t0), 5);
  EXPECT_FALSE(limiter.admit(ip("192.0.2.1"), t0 + 500ms).allowed) << "half a token is none";
  EXPECT_TRUE(limiter.admit(ip("192.0.2.1"), t0 + 1s).allowed);
  EXPECT_FALSE(limiter.admit(ip("192.0.2.1"), t0 + 1s).allowed);
  EXPECT_EQ(admit_n(limiter, "192.0.2.1", 3, t0 + 3s), 2) << "two more seconds, two tokens";
  // A long quiet spell fills the bucket to the burst, not beyond.
  EXPECT_EQ(admit_n(limiter, "192.0.2.1", 10, t0 + 1h), 5);
}

TEST(ConnectionLimiter, SustainedRateIsAllowedIndefinitely) {
  ConnectionLimiter limiter(small_limits(600, 1));  // one every 100 ms, no slack
  auto t = Clock::now();
  for (int i = 0; i < 1000; ++i, t += 100ms) ASSERT_TRUE(limiter.admit(ip("192.0.2.9"), t).allowed) << i;
  EXPECT_FALSE(limiter.admit(ip("192.0.2.9"), t - 50ms).allowed);
}

TEST(ConnectionLimiter, Ipv6IsCountedPerSlash64) {
  ConnectionLimiter limiter(small_limits(60, 4));
  auto t0 = Clock::now();
  // Four different addresses of one /64 share one bucket.
  EXPECT_TRUE(limiter.admit(ip("2001:db8:1:2::1"), t0).allowed);
  EXPECT_TRUE(limiter.admit(ip("2001:db8:1:2::2"), t0).allowed);
  EXPECT_TRUE(limiter.admit(ip("2001:db8:1:2:ffff:ffff:ffff:ffff"), t0).allowed);
  EXPECT_TRUE(limiter.admit(ip("2001:db8:1:2:abcd::9"), t0).allowed);
  auto refused = limiter.admit(ip("2001:db8:1:2::77"), t0);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.group, "2001:db8:1:2::/64");
  // The neighbouring /64 is someone else.
  EXPECT_TRUE(limiter.admit(ip("2001:db8:1:3::1"), t0).allowed);
  // IPv4 stays per address, whether seen as IPv4 or IPv4-mapped IPv6.
  EXPECT_EQ(admit_n(limiter, "192.0.2.1", 2, t0), 2);
  EXPECT_EQ(admit_n(limiter, "::ffff:192.0.2.1", 3, t0), 2);
  EXPECT_EQ(admit_n(limiter, "192.0.2.2", 4, t0), 4);
  auto refused_v4 = limiter.admit(ip("192.0.2.1"), t0);
  EXPECT_FALSE(refused_v4.allowed);
  EXPECT_EQ(refused_v4.group, "192.0.2.1");
}

TEST(ConnectionLimiter, LoopbackIsExemptByDefaultAndWhenTurnedOffIsLimited) {
  auto t0 = Clock::now();
  ConnectionLimiter exempting(small_limits(1, 2));
  EXPECT_EQ(admit_n(exempting, "127.0.0.1", 1000, t0), 1000);
  EXPECT_EQ(admit_n(exempting, "127.8.9.10", 10, t0), 10);
  EXPECT_EQ(admit_n(exempting, "::1", 1000, t0), 1000);
  EXPECT_EQ(admit_n(exempting, "::ffff:127.0.0.1", 10, t0), 10);
  EXPECT_EQ(exempting.tracked(), 0u) << "exempt addresses take no memory";

  ConnectionLimits limits = small_limits(1, 2);
  limits.exempt_loopback = false;
  ConnectionLimiter limiting(limits);
  EXPECT_EQ(admit_n(limiting, "127.0.0.1", 10, t0), 2);
  EXPECT_EQ(admit_n(limiting, "::1", 10, t0), 2);
}

TEST(ConnectionLimiter, ExemptNetworksOfBothFamiliesAreNotLimited) {
  ConnectionLimits limits = small_limits(1, 2);
  for (const char* text : {"10.0.0.0/8", "198.51.100.7", "2001:db8:aa00::/40"}) {
    auto network = core::parse_ip_network(text);
    ASSERT_TRUE(network) << text;
    limits.exempt.push_back(*network);
  }
  ConnectionLimiter limiter(limits);
  auto t0 = Clock::now();
  EXPECT_EQ(admit_n(limiter, "10.200.3.4", 50, t0), 50);
  EXPECT_EQ(admit_n(limiter, "::ffff:10.1.1.1", 50, t0), 50);
  EXPECT_EQ(admit_n(limiter, "198.51.100.7", 50, t0), 50);
  EXPECT_EQ(admit_n(limiter, "2001:db8:aaff:1::5", 50, t0), 50);
  // Just outside each network: limited.
  EXPECT_EQ(admit_n(limiter, "11.0.0.1", 50, t0), 2);
  EXPECT_EQ(admit_n(limiter, "198.51.100.8", 50, t0), 2);
  EXPECT_EQ(admit_n(limiter, "2001:db8:ab00::1", 50, t0), 2);
}

TEST(ConnectionLimiter, RefusalsAreLoggedOncePerIntervalWithTheCountInBetween) {
  ConnectionLimits limits = small_limits(1, 2);
  limits.log_interval = 60s;
  ConnectionLimiter limiter(limits);
  auto t0 = Clock::now();
  ASSERT_EQ(admit_n(limiter, "192.0.2.1", 2, t0), 2);
  auto first = limiter.admit(ip("192.0.2.1"), t0 + 1ms);
  EXPECT_FALSE(first.allowed);
  EXPECT_TRUE(first.log) << "the first refusal is logged";
  EXPECT_EQ(first.refused_unlogged, 1u);
  EXPECT_EQ(first.group, "192.0.2.1");
  int logged = 0;
  for (int i = 0; i < 500; ++i) {
    // 59 s of refusals (at 1 a minute the bucket gains 0.98 of a token).
    auto v = limiter.admit(ip("192.0.2.1"), t0 + 1ms + std::chrono::milliseconds(i * 118));
    EXPECT_FALSE(v.allowed) << i;
    logged += v.log ? 1 : 0;
  }
  EXPECT_EQ(logged, 0) << "refusals within the interval are counted, not logged";
  // Another address logs its own first refusal.
  ASSERT_EQ(admit_n(limiter, "192.0.2.2", 2, t0), 2);
  EXPECT_TRUE(limiter.admit(ip("192.0.2.2"), t0).log);
  // Past the interval, the next refusal is logged with the count since.
  ASSERT_TRUE(limiter.admit(ip("192.0.2.1"), t0 + 61s).allowed) << "the refilled token";
  auto later = limiter.admit(ip("192.0.2.1"), t0 + 61s);
  EXPECT_FALSE(later.allowed);
  EXPECT_TRUE(later.log);
  EXPECT_EQ(later.refused_unlogged, 501u);
}

TEST(ConnectionLimiter, FullBucketsAreForgottenSoMemoryStaysBounded) {
  ConnectionLimiter limiter(small_limits(60, 3));  // full again 3 s after use
  auto t0 = Clock::now();
  for (int i = 0; i < 1000; ++i)
    limiter.admit(ip("10." + std::to_string(i / 256) + "." + std::to_string(i % 256) + ".1"), t0);
  EXPECT_EQ(limiter.tracked(), 1000u);
  // After refill, the next sweep (every few seconds) drops them all.
  limiter.admit(ip("192.0.2.1"), t0 + 1min);
  EXPECT_EQ(limiter.tracked(), 1u);
}

TEST(ConnectionLimiter, AFloodOfDistinctAddressesIsCappedInMemory) {
  ConnectionLimits limits = small_limits(1, 2);  // buckets stay partly drained
  limits.max_tracked = 1000;
  ConnectionLimiter limiter(limits);
  auto t = Clock::now();
  for (int i = 0; i < 20000; ++i, t += 1us) {
    core::IpBytes address{0x20, 0x01, 0x0d, 0xb8};
    address[4] = static_cast<std::uint8_t>(i >> 8);
    address[5] = static_cast<std::uint8_t>(i);
    limiter.admit(address, t);
    ASSERT_LE(limiter.tracked(), 1000u) << i;
  }
  // The most recent addresses are still limited.
  core::IpBytes last{0x20, 0x01, 0x0d, 0xb8};
  last[4] = static_cast<std::uint8_t>(19999 >> 8);
  last[5] = static_cast<std::uint8_t>(19999);
  EXPECT_TRUE(limiter.admit(last, t).allowed);
  EXPECT_FALSE(limiter.admit(last, t).allowed);
}

}  // namespace
}  // namespace tern::transport
