// CommandSessions: XEP-0050 §4.3 session ids, bound to one requester and
// one node, ended by completion, cancel or expiry.
#include "modules/adhoc/command_sessions.h"

#include <gtest/gtest.h>

#include <set>

namespace tern::modules::adhoc {
namespace {

using namespace std::chrono_literals;
using Clock = CommandSessions::Clock;

constexpr const char* kNode = "http://jabber.org/protocol/admin#add-user";
constexpr const char* kAdmin = "admin@example.com/desk";

TEST(AdhocCommandSessions, OpenThenTouchByTheSameRequesterAndNode) {
  CommandSessions s(10min, 100);
  const auto now = Clock::now();
  const auto id = s.open("add-user", kNode, kAdmin, now);
  EXPECT_EQ(id.rfind("add-user:", 0), 0u);
  EXPECT_TRUE(s.touch(id, kNode, kAdmin, now + 1s));
  EXPECT_FALSE(s.touch(id, kNode, "admin@example.com/phone", now));  // another resource
  EXPECT_FALSE(s.touch(id, "http://jabber.org/protocol/admin#announce", kAdmin, now));
  EXPECT_FALSE(s.touch("add-user:0000", kNode, kAdmin, now));
  EXPECT_TRUE(s.touch(id, kNode, kAdmin, now + 2s));  // mismatches did not end it
}

TEST(AdhocCommandSessions, IdsAreUnique) {
  CommandSessions s(10min, 1000);
  std::set<std::string> ids;
  for (int i = 0; i < 500; ++i) ids.insert(s.open("x", kNode, kAdmin, Clock::now()));
  EXPECT_EQ(ids.size(), 500u);
}

TEST(AdhocCommandSessions, CloseEndsIt) {
  CommandSessions s(10min, 100);
  const auto now = Clock::now();
  const auto id = s.open("add-user", kNode, kAdmin, now);
  s.close(id);
  EXPECT_FALSE(s.touch(id, kNode, kAdmin, now));
  EXPECT_EQ(s.size(), 0u);
}

TEST(AdhocCommandSessions, ExpiresAfterItsLifetimeUnused) {
  CommandSessions s(10min, 100);
  const auto now = Clock::now();
  const auto id = s.open("add-user", kNode, kAdmin, now);
  EXPECT_TRUE(s.touch(id, kNode, kAdmin, now + 9min));   // use extends it…
  EXPECT_TRUE(s.touch(id, kNode, kAdmin, now + 18min));  // …from the last use
  EXPECT_FALSE(s.touch(id, kNode, kAdmin, now + 28min));
  EXPECT_EQ(s.size(), 0u);
}

TEST(AdhocCommandSessions, FullTableRefusesUntilSomeExpire) {
  CommandSessions s(1min, 2);
  const auto now = Clock::now();
  EXPECT_FALSE(s.open("a", kNode, kAdmin, now).empty());
  EXPECT_FALSE(s.open("a", kNode, kAdmin, now).empty());
  EXPECT_TRUE(s.open("a", kNode, kAdmin, now).empty());
  EXPECT_FALSE(s.open("a", kNode, kAdmin, now + 2min).empty());
}

}  // namespace
}  // namespace tern::modules::adhoc
