#include "stream/resumable_sessions.h"

#include <gtest/gtest.h>

#include "../router/fake_session.h"

namespace tern::stream {
namespace {

using router::fakes::FakeSession;

TEST(ResumableSessions, FindsByIdWhileTheSessionLives) {
  ResumableSessions table;
  auto s = FakeSession::make("alice@example.com/phone", 0);
  table.add("id1", s);
  EXPECT_EQ(table.find("id1"), s);
  EXPECT_FALSE(table.find("id2"));
  s.reset();
  // Only a weak reference: an ended session is not kept alive by its id.
  EXPECT_EQ(table.find("id1"), nullptr);
}

TEST(ResumableSessions, EndForgetsOnlyTheSessionItNames) {
  ResumableSessions table;
  auto old_stream = FakeSession::make("alice@example.com/phone", 0);
  auto new_stream = FakeSession::make("alice@example.com/phone", 1);
  table.add("id", old_stream);
  // A resumed stream takes the id over; the old one's end must not drop it.
  table.add("id", new_stream);
  table.end("id", old_stream.get(), "alice@example.com", 3);
  EXPECT_EQ(table.find("id"), new_stream);
  EXPECT_FALSE(table.handled_when_ended("id", "alice@example.com"));
  table.end("id", new_stream.get(), "alice@example.com", 7);
  EXPECT_FALSE(table.find("id"));
  EXPECT_EQ(table.size(), 0u);
}

TEST(ResumableSessions, AnEndedSessionsCountIsToldToItsAccountOnly) {
  ResumableSessions table;
  auto s = FakeSession::make("alice@example.com/phone", 0);
  table.add("id", s);
  EXPECT_FALSE(table.handled_when_ended("id", "alice@example.com"));  // still live
  table.end("id", s.get(), "alice@example.com", 42);
  EXPECT_EQ(table.handled_when_ended("id", "alice@example.com"), 42u);
  EXPECT_FALSE(table.handled_when_ended("id", "mallory@example.com"));
  EXPECT_FALSE(table.handled_when_ended("other", "alice@example.com"));
}

}  // namespace
}  // namespace tern::stream
