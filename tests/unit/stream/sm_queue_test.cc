#include "stream/sm_queue.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace tern::stream {
namespace {

constexpr std::uint32_t kMax = UINT32_MAX;

TEST(HandledCounter, WrapsToZeroAfterTwoToThe32) {
  HandledCounter c;
  c.set(kMax);
  c.advance();
  EXPECT_EQ(c.value(), 0u);
}

TEST(HandledCounter, DistanceAcrossTheWrap) {
  EXPECT_EQ(HandledCounter::distance(kMax - 1, 2), 4u);
  EXPECT_EQ(HandledCounter::distance(5, 5), 0u);
}

TEST(UnackedQueue, AckDropsCoveredStanzas) {
  UnackedQueue<std::string> q(10);
  ASSERT_TRUE(q.push("a"));
  ASSERT_TRUE(q.push("b"));
  ASSERT_TRUE(q.push("c"));
  ASSERT_TRUE(q.acknowledge(2));
  auto rest = q.take_all();
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0], "c");
}

TEST(UnackedQueue, RepeatedAckIsHarmless) {
  UnackedQueue<std::string> q(10);
  q.push("a");
  q.push("b");
  ASSERT_TRUE(q.acknowledge(1));
  ASSERT_TRUE(q.acknowledge(1));
  EXPECT_EQ(q.size(), 1u);
}

TEST(UnackedQueue, AckBeyondSentIsRefused) {
  UnackedQueue<std::string> q(10);
  q.push("a");
  EXPECT_FALSE(q.acknowledge(2));
  EXPECT_EQ(q.size(), 1u);
}

TEST(UnackedQueue, AckAcrossTheWrap) {
  UnackedQueue<std::string> q(10);
  q.set_sent(kMax - 1);  // h of the last acked stanza is kMax - 1
  q.push("a");           // h = kMax
  q.push("b");           // h = 0
  q.push("c");           // h = 1
  EXPECT_EQ(q.sent(), 1u);
  ASSERT_TRUE(q.acknowledge(0));
  auto rest = q.take_all();
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0], "c");
}

TEST(UnackedQueue, FullQueueRefusesPush) {
  UnackedQueue<std::string> q(2);
  EXPECT_TRUE(q.push("a"));
  EXPECT_TRUE(q.push("b"));
  EXPECT_FALSE(q.push("c"));
  EXPECT_EQ(q.sent(), 2u);
  ASSERT_TRUE(q.acknowledge(1));
  EXPECT_TRUE(q.push("c"));
}

TEST(UnackedQueue, FullAtTheCapAndNotAfterAnAck) {
  UnackedQueue<std::string> q(2);
  EXPECT_FALSE(q.full());
  ASSERT_TRUE(q.push("a"));
  ASSERT_TRUE(q.push("b"));
  EXPECT_TRUE(q.full());
  EXPECT_FALSE(q.push("c"));
  ASSERT_TRUE(q.acknowledge(1));
  EXPECT_FALSE(q.full());
}

TEST(UnackedQueue, ResumedCountContinuesFromTheClientsAck) {
  // A resumed stream starts at the h the client gave and re-sends the rest.
  UnackedQueue<std::string> q(10);
  q.set_sent(kMax);
  ASSERT_TRUE(q.push("again-1"));
  ASSERT_TRUE(q.push("again-2"));
  EXPECT_EQ(q.sent(), 1u);
  EXPECT_FALSE(q.acknowledge(2));
  ASSERT_TRUE(q.acknowledge(0));
  EXPECT_EQ(q.size(), 1u);
}

}  // namespace
}  // namespace tern::stream
