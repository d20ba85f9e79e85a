#include "stream/token_bucket.h"

#include <gtest/gtest.h>

namespace tern::stream {
namespace {

using namespace std::chrono_literals;
using Clock = TokenBucket::Clock;

TEST(TokenBucket, StartsWithASecondOfBurst) {
  const auto t0 = Clock::time_point{} + 1h;
  TokenBucket b(1000, t0);
  EXPECT_EQ(b.wait(t0), Clock::duration::zero());
  EXPECT_EQ(b.charge(1000, t0), Clock::duration::zero());  // exactly the burst
  EXPECT_GT(b.charge(1, t0), Clock::duration::zero());     // one byte more is debt
}

TEST(TokenBucket, DebtIsPaidAtTheRate) {
  const auto t0 = Clock::time_point{} + 1h;
  TokenBucket b(1000, t0);
  // 1500 bytes at once: 500 over, half a second at 1000 B/s.
  auto pause = b.charge(1500, t0);
  EXPECT_NEAR(std::chrono::duration<double>(pause).count(), 0.5, 1e-6);
  EXPECT_GT(b.wait(t0 + 499ms), Clock::duration::zero());
  EXPECT_EQ(b.wait(t0 + 500ms), Clock::duration::zero());
}

TEST(TokenBucket, RefillStopsAtTheBurst) {
  const auto t0 = Clock::time_point{} + 1h;
  TokenBucket b(1000, t0);
  b.charge(1000, t0);
  // An hour of quiet still only buys one second's worth.
  EXPECT_EQ(b.charge(1000, t0 + 1h), Clock::duration::zero());
  EXPECT_GT(b.charge(1, t0 + 1h), Clock::duration::zero());
}

TEST(TokenBucket, HoldsTheRateOverManySends) {
  // A writer that sends 100-byte stanzas whenever wait() allows gets
  // 1000 B/s after the first second's burst: 10 s moves 11,000 bytes.
  auto now = Clock::time_point{} + 1h;
  const auto end = now + 10s;
  TokenBucket b(1000, now);
  std::size_t sent = 0;
  while (now < end) {
    auto w = b.wait(now);
    if (w > Clock::duration::zero()) {
      now += w;
      continue;
    }
    b.charge(100, now);
    sent += 100;
  }
  EXPECT_GE(sent, 10900u);
  EXPECT_LE(sent, 11100u);
}

TEST(TokenBucket, TimeGoingBackwardsAddsNothing) {
  const auto t0 = Clock::time_point{} + 1h;
  TokenBucket b(1000, t0);
  b.charge(2000, t0);
  EXPECT_GT(b.wait(t0 - 10s), Clock::duration::zero());
  EXPECT_NEAR(std::chrono::duration<double>(b.wait(t0)).count(), 1.0, 1e-6);
}

}  // namespace
}  // namespace tern::stream
