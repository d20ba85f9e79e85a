#include "stream/ended_sessions.h"

#include <string>

#include <gtest/gtest.h>

namespace tern::stream {
namespace {

using namespace std::chrono_literals;
using Clock = EndedSessions::Clock;

const Clock::time_point t0{};

TEST(EndedSessions, TellsTheCountToTheAccountWhoseSessionItWas) {
  EndedSessions ended(10, 600s);
  ended.add("id1", "alice@example.com", 17, t0);
  EXPECT_EQ(ended.handled("id1", "alice@example.com", t0 + 1s), 17u);
  // Another account presenting the id learns nothing, not even that it exists.
  EXPECT_FALSE(ended.handled("id1", "mallory@example.com", t0 + 1s));
  EXPECT_FALSE(ended.handled("id1", "alice@example.org", t0 + 1s));
  EXPECT_FALSE(ended.handled("id2", "alice@example.com", t0 + 1s));
}

TEST(EndedSessions, ARecordCanBeReadAgain) {
  // A client whose <failed/> was lost with its connection asks again.
  EndedSessions ended(10, 600s);
  ended.add("id", "alice@example.com", 5, t0);
  EXPECT_EQ(ended.handled("id", "alice@example.com", t0), 5u);
  EXPECT_EQ(ended.handled("id", "alice@example.com", t0), 5u);
}

TEST(EndedSessions, ARecordExpiresAfterItsLifetime) {
  EndedSessions ended(10, 600s);
  ended.add("id", "alice@example.com", 5, t0);
  EXPECT_EQ(ended.handled("id", "alice@example.com", t0 + 599s), 5u);
  EXPECT_FALSE(ended.handled("id", "alice@example.com", t0 + 600s));
  // Expired records go at the next add.
  ended.add("later", "bob@example.com", 1, t0 + 600s);
  EXPECT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended.handled("later", "bob@example.com", t0 + 600s), 1u);
}

TEST(EndedSessions, PastCapacityTheOldestGoesFirst) {
  EndedSessions ended(3, 600s);
  for (int i = 0; i < 5; ++i) {
    ended.add("id" + std::to_string(i), "alice@example.com", static_cast<std::uint32_t>(i), t0 + i * 1s);
  }
  EXPECT_EQ(ended.size(), 3u);
  EXPECT_FALSE(ended.handled("id0", "alice@example.com", t0 + 5s));
  EXPECT_FALSE(ended.handled("id1", "alice@example.com", t0 + 5s));
  EXPECT_EQ(ended.handled("id2", "alice@example.com", t0 + 5s), 2u);
  EXPECT_EQ(ended.handled("id4", "alice@example.com", t0 + 5s), 4u);
}

TEST(EndedSessions, ASecondRecordOfAnIdWinsAndOutlivesTheFirst) {
  EndedSessions ended(2, 600s);
  ended.add("id", "alice@example.com", 1, t0);
  ended.add("id", "alice@example.com", 2, t0 + 1s);
  EXPECT_EQ(ended.handled("id", "alice@example.com", t0 + 1s), 2u);
  // Dropping the first record leaves the second one findable.
  ended.add("other", "bob@example.com", 3, t0 + 2s);
  EXPECT_EQ(ended.handled("id", "alice@example.com", t0 + 2s), 2u);
  EXPECT_EQ(ended.handled("other", "bob@example.com", t0 + 2s), 3u);
}

TEST(EndedSessions, ZeroCapacityKeepsNothing) {
  EndedSessions ended(0, 600s);
  ended.add("id", "alice@example.com", 1, t0);
  EXPECT_EQ(ended.size(), 0u);
  EXPECT_FALSE(ended.handled("id", "alice@example.com", t0));
}

}  // namespace
}  // namespace tern::stream
