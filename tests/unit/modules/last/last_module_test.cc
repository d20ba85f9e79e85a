// The last-activity module (XEP-0012) through its registered iq handlers and
// its presence_broadcast and session_ended hooks.
#include <gtest/gtest.h>

#include <thread>

#include "modules/last/last.h"
#include "modules/module_harness.h"
#include "xml/serializer.h"
#include "xmpp/namespaces.h"

namespace tern::modules {
namespace {

using testing::ModuleHarness;

const xml::Element* query_of(const xml::Element& iq) { return iq.child("query", last::kNs); }

class LastModuleTest : public ::testing::Test {
 protected:
  void SetUp() override { h.start({"last"}); }
  xml::Element ask(const testing::Session& s, const std::string& to) {
    return h.iq(s, "get", "<query xmlns='jabber:iq:last'/>", to);
  }
  // Gives `contact` a 'from' subscription in `owner`'s roster.
  void let_see_presence(const std::string& owner, const std::string& contact) {
    storage::RosterItem item;
    item.jid = contact + "@example.com";
    item.subscription = "from";
    h.storage->roster().put({owner, "example.com"}, item);
  }

  ModuleHarness h;
};

TEST_F(LastModuleTest, AdvertisesOnTheServerAndOnAccounts) {
  EXPECT_EQ(h.features.disco_features, std::vector<std::string>{last::kNs});
  EXPECT_EQ(h.features.account_features, std::vector<std::string>{last::kNs});
}

TEST_F(LastModuleTest, TheServerAnswersItsUptime) {
  auto alice = h.login("alice");
  auto reply = ask(alice, "example.com");
  EXPECT_EQ(reply.attr_or("type"), "result") << xml::to_string(reply, ns::kClient);
  ASSERT_NE(query_of(reply), nullptr);
  EXPECT_GE(std::stol(std::string(query_of(reply)->attr_or("seconds", "-1"))), 0);
}

TEST_F(LastModuleTest, AnAvailableAccountIsZeroSecondsIdle) {
  auto alice = h.login("alice", "r", true);
  auto reply = ask(alice, "alice@example.com");
  ASSERT_NE(query_of(reply), nullptr) << xml::to_string(reply, ns::kClient);
  EXPECT_EQ(query_of(reply)->attr_or("seconds"), "0");
}

TEST_F(LastModuleTest, AStrangerIsForbiddenAndAMissingAccountUnavailable) {
  h.login("alice", "r", true);
  auto eve = h.login("eve");
  EXPECT_EQ(ModuleHarness::error_of(ask(eve, "alice@example.com")), "forbidden");
  EXPECT_EQ(ModuleHarness::error_of(ask(eve, "nobody@example.com")), "service-unavailable");
}

TEST_F(LastModuleTest, AContactGetsTheTimeAndStatusOfTheLastLogout) {
  auto alice = h.login("alice", "r", true);
  auto bob = h.login("bob");
  let_see_presence("alice", "bob");
  // Never logged out yet: nothing to tell.
  alice->set_presence(false, 0);
  EXPECT_EQ(ModuleHarness::error_of(ask(bob, "alice@example.com")), "service-unavailable");

  h.route("<presence type='unavailable' from='alice@example.com/r'><status>gone fishing</status></presence>");
  h.end_session(alice);
  // The logout is stored off the shards: ask until it is there.
  xml::Element reply("iq", "jabber:client");
  for (int i = 0; i < 200; ++i) {
    reply = ask(bob, "alice@example.com");
    if (query_of(reply)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_NE(query_of(reply), nullptr) << xml::to_string(reply, ns::kClient);
  EXPECT_GE(std::stol(std::string(query_of(reply)->attr_or("seconds", "-1"))), 0);
  EXPECT_EQ(query_of(reply)->text(), "gone fishing");
}

}  // namespace
}  // namespace tern::modules
