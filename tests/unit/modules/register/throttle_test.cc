// RegistrationThrottle: modules.register.per_ip_per_hour over a sliding hour.
#include <gtest/gtest.h>

#include "modules/register/throttle.h"

namespace tern::modules::reg {
namespace {

using namespace std::chrono_literals;
using Clock = RegistrationThrottle::Clock;

TEST(RegistrationThrottle, AllowsUpToTheLimitThenRefuses) {
  RegistrationThrottle t(3, 1h);
  const auto now = Clock::now();
  EXPECT_TRUE(t.try_acquire("192.0.2.1", now));
  EXPECT_TRUE(t.try_acquire("192.0.2.1", now + 1s));
  EXPECT_TRUE(t.try_acquire("192.0.2.1", now + 2s));
  EXPECT_FALSE(t.try_acquire("192.0.2.1", now + 3s));
  EXPECT_FALSE(t.try_acquire("192.0.2.1", now + 4s));  // a refusal is not recorded…
  // …so the first attempt leaving the window frees exactly one place.
  EXPECT_TRUE(t.try_acquire("192.0.2.1", now + 1h));
  EXPECT_FALSE(t.try_acquire("192.0.2.1", now + 1h));
  EXPECT_TRUE(t.try_acquire("192.0.2.1", now + 1h + 1s));
}

TEST(RegistrationThrottle, AddressesAreCountedApart) {
  RegistrationThrottle t(1, 1h);
  const auto now = Clock::now();
  EXPECT_TRUE(t.try_acquire("192.0.2.1", now));
  EXPECT_FALSE(t.try_acquire("192.0.2.1", now));
  EXPECT_TRUE(t.try_acquire("2001:db8::1", now));
  EXPECT_TRUE(t.try_acquire("192.0.2.2", now));
}

TEST(RegistrationThrottle, RefundGivesBackOnePlace) {
  RegistrationThrottle t(2, 1h);
  const auto now = Clock::now();
  EXPECT_TRUE(t.try_acquire("192.0.2.1", now));
  EXPECT_TRUE(t.try_acquire("192.0.2.1", now));
  EXPECT_FALSE(t.try_acquire("192.0.2.1", now));
  t.refund("192.0.2.1");
  EXPECT_TRUE(t.try_acquire("192.0.2.1", now));
  EXPECT_FALSE(t.try_acquire("192.0.2.1", now));
  t.refund("198.51.100.7");  // unknown address: nothing to give back, no harm
  EXPECT_FALSE(t.try_acquire("192.0.2.1", now));
}

TEST(RegistrationThrottle, ZeroMeansNoLimit) {
  RegistrationThrottle t(0, 1h);
  const auto now = Clock::now();
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(t.try_acquire("192.0.2.1", now));
  EXPECT_EQ(t.tracked(), 0u);
}

TEST(RegistrationThrottle, AddressesThatWentQuietAreForgotten) {
  RegistrationThrottle t(5, 1h);
  const auto now = Clock::now();
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(t.try_acquire("10.0.0." + std::to_string(i), now));
  EXPECT_EQ(t.tracked(), 100u);
  // Later calls sweep the table every so often: the old addresses go.
  for (int i = 0; i < 300; ++i) ASSERT_TRUE(t.try_acquire("192.0.2.1", now + 2h + i * 1ms) || i >= 5);
  EXPECT_EQ(t.tracked(), 1u);
}

}  // namespace
}  // namespace tern::modules::reg
