// The presence module (with the roster module, as the server runs them)
// through its hooks: initial and unavailable broadcast to subscribers only
// (RFC 6121 §4.2, §4.5), directed presence (§4.6), and an outbound
// subscription request reaching the contact and the user's roster (§3.1).
#include <gtest/gtest.h>

#include "modules/module_harness.h"
#include "xml/serializer.h"
#include "xmpp/namespaces.h"

namespace tern::modules {
namespace {

using testing::ModuleHarness;

auto presence_from(const std::string& from, std::string_view type = "") {
  return [from, type = std::string(type)](const xml::Element& e) {
    return e.name() == "presence" && e.attr_or("from") == from && e.attr_or("type") == type;
  };
}

class PresenceModuleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    h.start({"roster", "presence"});
    alice = h.login("alice", "r", true);
    bob = h.login("bob", "r", true);
    carol = h.login("carol", "r", true);
    subscribe("alice", "bob", "both");
    subscribe("bob", "alice", "both");
    subscribe("alice", "carol", "none");
  }
  void subscribe(const std::string& owner, const std::string& contact, const std::string& sub) {
    storage::RosterItem item;
    item.jid = contact + "@example.com";
    item.subscription = sub;
    h.storage->roster().put({owner, "example.com"}, item);
  }

  ModuleHarness h;
  testing::Session alice, bob, carol;
};

TEST_F(PresenceModuleTest, InitialPresenceReachesSubscribersOnly) {
  h.route("<presence from='alice@example.com/r'><show>chat</show></presence>");
  auto got = h.wait_for(bob, presence_from("alice@example.com/r"));
  ASSERT_TRUE(got);
  EXPECT_EQ(got->child_text("show"), "chat");
  EXPECT_FALSE(h.got_any(carol, presence_from("alice@example.com/r")));
}

TEST_F(PresenceModuleTest, UnavailableReachesSubscribersAndDirectedTargets) {
  auto dave = h.login("dave", "r", true);
  h.route("<presence from='alice@example.com/r'/>");
  ASSERT_TRUE(h.wait_for(bob, presence_from("alice@example.com/r")));
  // §4.6: directed presence to someone not in the roster.
  h.route("<presence from='alice@example.com/r' to='dave@example.com/r'/>");
  ASSERT_TRUE(h.wait_for(dave, presence_from("alice@example.com/r")));

  h.route("<presence type='unavailable' from='alice@example.com/r'/>");
  EXPECT_TRUE(h.wait_for(bob, presence_from("alice@example.com/r", "unavailable")));
  EXPECT_TRUE(h.wait_for(dave, presence_from("alice@example.com/r", "unavailable")));
  EXPECT_FALSE(h.got_any(carol, presence_from("alice@example.com/r", "unavailable")));
}

TEST_F(PresenceModuleTest, ASessionEndingWhileAvailableGoesUnavailableForSubscribers) {
  h.route("<presence from='alice@example.com/r'/>");
  ASSERT_TRUE(h.wait_for(bob, presence_from("alice@example.com/r")));
  h.end_session(alice);
  EXPECT_TRUE(h.wait_for(bob, presence_from("alice@example.com/r", "unavailable")));
}

TEST_F(PresenceModuleTest, ASubscriptionRequestReachesTheContactAndMarksTheRoster) {
  h.iq(carol, "get", "<query xmlns='jabber:iq:roster'/>");  // an interested resource
  h.route("<presence type='subscribe' from='carol@example.com/r' to='alice@example.com'/>");
  // §3.1.3: delivered stamped with the user's bare JID.
  auto request = h.wait_for(alice, presence_from("carol@example.com", "subscribe"));
  ASSERT_TRUE(request);
  // §3.1.2: the user's roster gets the item with ask='subscribe', pushed.
  auto push = h.wait_for(carol, [](const xml::Element& e) {
    return e.name() == "iq" && e.attr_or("type") == "set";
  });
  ASSERT_TRUE(push);
  const auto* item = push->child("query", "jabber:iq:roster")->child("item", "jabber:iq:roster");
  ASSERT_NE(item, nullptr) << xml::to_string(*push, ns::kClient);
  EXPECT_EQ(item->attr_or("jid"), "alice@example.com");
  EXPECT_EQ(item->attr_or("ask"), "subscribe");
}

// Subscription changes go through the roster module's Rosters: its
// max_items holds for rows a subscription would add, both ways, and a
// request to an account that does not exist is refused.
class FullRosterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    h.start({"roster", "presence"}, {{"roster", {{"max_items", "1"}}}});
    alice = h.login("alice", "r", true);
    bob = h.login("bob", "r", true);
    storage::RosterItem item;
    item.jid = "carol@example.com";
    h.storage->roster().put({"alice", "example.com"}, item);
  }
  static auto error_presence(std::string_view condition) {
    return [condition = std::string(condition)](const xml::Element& e) {
      return e.name() == "presence" && e.attr_or("type") == "error" &&
             ModuleHarness::error_of(e) == condition;
    };
  }
  ModuleHarness h;
  testing::Session alice, bob;
};

TEST_F(FullRosterTest, AnOutboundRequestPastTheLimitIsRefusedAndStoresNothing) {
  h.route("<presence type='subscribe' from='alice@example.com/r' to='bob@example.com'/>");
  EXPECT_TRUE(h.wait_for(alice, error_presence("policy-violation")));
  EXPECT_FALSE(h.got_any(bob, presence_from("alice@example.com", "subscribe")));
  EXPECT_FALSE(h.storage->roster().item({"alice", "example.com"}, "bob@example.com"));
}

TEST_F(FullRosterTest, AnInboundRequestPastTheLimitIsBouncedToItsSender) {
  h.route("<presence type='subscribe' from='bob@example.com/r' to='alice@example.com'/>");
  EXPECT_TRUE(h.wait_for(bob, error_presence("policy-violation")));
  EXPECT_FALSE(h.got_any(alice, presence_from("bob@example.com", "subscribe")));
  EXPECT_FALSE(h.storage->roster().item({"alice", "example.com"}, "bob@example.com"));
  // bob's own row (his request) is within his limit.
  auto row = h.storage->roster().item({"bob", "example.com"}, "alice@example.com");
  ASSERT_TRUE(row);
  EXPECT_TRUE(row->ask_out);
}

TEST_F(FullRosterTest, ARequestToNoSuchAccountIsAnsweredUnsubscribed) {
  h.route("<presence type='subscribe' from='bob@example.com/r' to='nobody@example.com'/>");
  EXPECT_TRUE(h.wait_for(bob, presence_from("nobody@example.com", "unsubscribed")));
  EXPECT_FALSE(h.storage->roster().item({"nobody", "example.com"}, "bob@example.com"));
}

}  // namespace
}  // namespace tern::modules
