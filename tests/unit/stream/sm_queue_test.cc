#include "stream/sm_queue.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

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

// Acks that arrive in small steps while stanzas keep coming (the vector
// is compacted as acknowledged stanzas pile up at its front): the order and
// the count stay right.
TEST(UnackedQueue, InterleavedPushesAndPartialAcksKeepOrder) {
  UnackedQueue<std::string> q(1000);
  std::uint32_t next = 0, acked = 0;
  for (int round = 0; round < 200; ++round) {
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(q.push(std::to_string(next++)));
    acked += 2;
    ASSERT_TRUE(q.acknowledge(acked));
    EXPECT_EQ(q.size(), next - acked);
  }
  auto rest = q.take_all();
  ASSERT_EQ(rest.size(), next - acked);
  for (std::size_t i = 0; i < rest.size(); ++i) EXPECT_EQ(rest[i], std::to_string(acked + i));
  EXPECT_EQ(q.size(), 0u);
  ASSERT_TRUE(q.push("after"));
  EXPECT_EQ(q.take_all(), std::vector<std::string>{"after"});
}

TEST(UnackedQueue, AckOfEverythingEmptiesIt) {
  UnackedQueue<std::string> q(10);
  for (const char* s : {"a", "b", "c"}) q.push(s);
  ASSERT_TRUE(q.acknowledge(3));
  EXPECT_EQ(q.size(), 0u);
  EXPECT_TRUE(q.take_all().empty());
  EXPECT_FALSE(q.acknowledge(4));
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
