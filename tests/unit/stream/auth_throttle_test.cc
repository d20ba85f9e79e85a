#include "stream/auth_throttle.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace tern::stream {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;
using Clock = AuthThrottle::Clock;

// Any fixed point works; the throttle only compares differences.
const Clock::time_point t0 = Clock::time_point{} + std::chrono::hours(24);

// The delays for `n` failures from `ip`, one second apart from `start`.
std::vector<long> fail_n(AuthThrottle& t, const std::string& ip, int n, Clock::time_point start) {
  std::vector<long> out;
  for (int i = 0; i < n; ++i) out.push_back(t.record_failure(ip, start + seconds(i)).count());
  return out;
}

TEST(AuthThrottle, FirstThreeFailuresAreFree) {
  AuthThrottle t;
  EXPECT_EQ(fail_n(t, "192.0.2.1", 3, t0), (std::vector<long>{0, 0, 0}));
}

TEST(AuthThrottle, FurtherFailuresDoubleTheDelayUpToTenSeconds) {
  AuthThrottle t;
  EXPECT_EQ(fail_n(t, "192.0.2.1", 12, t0),
            (std::vector<long>{0, 0, 0, 250, 500, 1000, 2000, 4000, 8000, 10000, 10000, 10000}));
}

TEST(AuthThrottle, DelayStaysCappedAfterManyFailures) {
  AuthThrottle t;
  auto delays = fail_n(t, "192.0.2.1", 200, t0);
  EXPECT_EQ(delays.back(), 10000);
  for (std::size_t i = 1; i < delays.size(); ++i) {
    EXPECT_GE(delays[i], delays[i - 1]) << "failure " << i + 1;
    EXPECT_LE(delays[i], 10000) << "failure " << i + 1;
  }
}

TEST(AuthThrottle, SuccessResetsTheCount) {
  AuthThrottle t;
  fail_n(t, "192.0.2.1", 6, t0);
  t.record_success("192.0.2.1");
  EXPECT_EQ(fail_n(t, "192.0.2.1", 4, t0 + seconds(10)), (std::vector<long>{0, 0, 0, 250}));
}

TEST(AuthThrottle, SuccessForAnUnknownAddressIsHarmless) {
  AuthThrottle t;
  t.record_success("192.0.2.9");
  EXPECT_EQ(fail_n(t, "192.0.2.9", 4, t0), (std::vector<long>{0, 0, 0, 250}));
}

TEST(AuthThrottle, FailuresAreForgottenFiveMinutesAfterTheLast) {
  AuthThrottle t;
  fail_n(t, "192.0.2.1", 5, t0);  // last at t0 + 4 s
  const auto last = t0 + seconds(4);
  EXPECT_EQ(t.record_failure("192.0.2.1", last + minutes(5) + milliseconds(1)).count(), 0);
  EXPECT_EQ(t.record_failure("192.0.2.1", last + minutes(5) + seconds(1)).count(), 0);
  EXPECT_EQ(t.record_failure("192.0.2.1", last + minutes(5) + seconds(2)).count(), 0);
  EXPECT_EQ(t.record_failure("192.0.2.1", last + minutes(5) + seconds(3)).count(), 250);
}

TEST(AuthThrottle, FailuresWithinFiveMinutesAreRemembered) {
  AuthThrottle t;
  fail_n(t, "192.0.2.1", 5, t0);  // next would be the 6th: 1000 ms
  EXPECT_EQ(t.record_failure("192.0.2.1", t0 + seconds(4) + minutes(4) + seconds(59)).count(),
            1000);
}

TEST(AuthThrottle, TheWindowRunsFromTheLatestFailure) {
  // A slow guesser, one try every four minutes, never gets a clean slate.
  AuthThrottle t;
  std::vector<long> delays;
  for (int i = 0; i < 6; ++i)
    delays.push_back(t.record_failure("192.0.2.1", t0 + minutes(4) * i).count());
  EXPECT_EQ(delays, (std::vector<long>{0, 0, 0, 250, 500, 1000}));
}

TEST(AuthThrottle, AddressesAreCountedSeparately) {
  AuthThrottle t;
  EXPECT_EQ(fail_n(t, "192.0.2.1", 5, t0), (std::vector<long>{0, 0, 0, 250, 500}));
  EXPECT_EQ(fail_n(t, "2001:db8::1", 4, t0), (std::vector<long>{0, 0, 0, 250}));
  EXPECT_EQ(t.record_failure("192.0.2.1", t0 + seconds(5)).count(), 1000);
  t.record_success("2001:db8::1");
  EXPECT_EQ(t.record_failure("192.0.2.1", t0 + seconds(6)).count(), 2000);
  EXPECT_EQ(t.record_failure("2001:db8::1", t0 + seconds(6)).count(), 0);
}

TEST(AuthThrottle, PruningStaleAddressesKeepsRecentOnes) {
  // Past 100000 tracked addresses the throttle drops stale entries; an
  // address that failed recently must keep its count.
  AuthThrottle t;
  for (int i = 0; i < 100001; ++i) t.record_failure("10.0." + std::to_string(i), t0);
  fail_n(t, "192.0.2.1", 4, t0 + minutes(2));
  // This one triggers the pruning (every 10.0.* entry is 6 minutes old).
  EXPECT_EQ(t.record_failure("198.51.100.1", t0 + minutes(6)).count(), 0);
  EXPECT_EQ(t.record_failure("192.0.2.1", t0 + minutes(6)).count(), 500);
  EXPECT_EQ(t.record_failure("10.0.7", t0 + minutes(6)).count(), 0);
}

}  // namespace
}  // namespace tern::stream
