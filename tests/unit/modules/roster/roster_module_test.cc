// The roster module through its registered iq handlers (RFC 6121 §2,
// XEP-0237): get with and without a version, set and remove with their
// pushes to interested resources only, and the errors.
#include <gtest/gtest.h>

#include "modules/module_harness.h"
#include "xml/serializer.h"
#include "xmpp/namespaces.h"

namespace tern::modules {
namespace {

using testing::ModuleHarness;

constexpr const char* kRosterNs = "jabber:iq:roster";

const xml::Element* query_of(const xml::Element& iq) { return iq.child("query", kRosterNs); }

long version_of(const xml::Element& iq) {
  const auto* q = query_of(iq);
  return q ? std::stol(std::string(q->attr_or("ver", "-1"))) : -1;
}

bool is_push(const xml::Element& e) {
  return e.name() == "iq" && e.attr_or("type") == "set" && query_of(e) != nullptr;
}

class RosterModuleTest : public ::testing::Test {
 protected:
  void SetUp() override { h.start({"roster"}); }

  xml::Element set_item(const testing::Session& s, const std::string& item) {
    return h.iq(s, "set", std::string("<query xmlns='") + kRosterNs + "'>" + item + "</query>");
  }

  ModuleHarness h;
};

TEST_F(RosterModuleTest, AnEmptyRosterHasAVersionOnlyForAClientThatAsks) {
  auto alice = h.login("alice");
  auto plain = h.iq(alice, "get", "<query xmlns='jabber:iq:roster'/>");
  EXPECT_EQ(plain.attr_or("type"), "result") << xml::to_string(plain, ns::kClient);
  ASSERT_NE(query_of(plain), nullptr) << xml::to_string(plain, ns::kClient);
  EXPECT_TRUE(query_of(plain)->children().empty());
  EXPECT_FALSE(query_of(plain)->attr("ver")) << "no 'ver' for a client without versioning";
  // XEP-0237 §4: a client that sends 'ver' (even empty) gets the version.
  auto versioned = h.iq(alice, "get", "<query xmlns='jabber:iq:roster' ver=''/>");
  ASSERT_NE(query_of(versioned), nullptr) << xml::to_string(versioned, ns::kClient);
  EXPECT_GE(version_of(versioned), 0);
}

TEST_F(RosterModuleTest, SetPushesToInterestedResourcesOnlyAndBumpsTheVersion) {
  auto phone = h.login("alice", "phone");
  auto desk = h.login("alice", "desk");  // never asks for the roster
  const auto before = version_of(h.iq(phone, "get", "<query xmlns='jabber:iq:roster' ver=''/>"));
  ASSERT_GE(before, 0);

  auto reply = set_item(phone, "<item jid='bob@example.com' name='Bob'><group>Friends</group></item>");
  EXPECT_EQ(reply.attr_or("type"), "result") << xml::to_string(reply, ns::kClient);
  EXPECT_EQ(query_of(reply), nullptr) << "a set's result carries no payload";

  auto pushes = h.wait_for_all(phone, is_push);
  ASSERT_EQ(pushes.size(), 1u);
  const auto& push = pushes.front();
  EXPECT_EQ(push.attr_or("to"), "alice@example.com/phone");
  EXPECT_FALSE(push.attr_or("id").empty());
  EXPECT_GT(version_of(push), before);
  const auto* item = query_of(push)->child("item", kRosterNs);
  ASSERT_NE(item, nullptr);
  EXPECT_EQ(item->attr_or("jid"), "bob@example.com");
  EXPECT_EQ(item->attr_or("name"), "Bob");
  EXPECT_EQ(item->attr_or("subscription"), "none");
  ASSERT_NE(item->child("group", kRosterNs), nullptr);
  EXPECT_EQ(item->child("group", kRosterNs)->text(), "Friends");

  // §2.1.6: only a resource that requested the roster is interested.
  EXPECT_FALSE(h.got_any(desk, is_push));
}

TEST_F(RosterModuleTest, GetWithTheCurrentVersionIsAnEmptyResult) {
  auto alice = h.login("alice");
  set_item(alice, "<item jid='bob@example.com'/>");
  auto full = h.iq(alice, "get", "<query xmlns='jabber:iq:roster' ver=''/>");
  ASSERT_NE(query_of(full), nullptr);
  ASSERT_EQ(query_of(full)->children().size(), 1u);
  const auto ver = std::to_string(version_of(full));

  // XEP-0237 §5.3 / RFC 6121 §2.6.3: nothing changed, no payload.
  auto same = h.iq(alice, "get", "<query xmlns='jabber:iq:roster' ver='" + ver + "'/>");
  EXPECT_EQ(same.attr_or("type"), "result");
  EXPECT_EQ(query_of(same), nullptr) << xml::to_string(same, ns::kClient);

  // An older version gets the whole roster with the current version.
  auto stale = h.iq(alice, "get", "<query xmlns='jabber:iq:roster' ver='0'/>");
  ASSERT_NE(query_of(stale), nullptr) << xml::to_string(stale, ns::kClient);
  EXPECT_EQ(std::to_string(version_of(stale)), ver);
  EXPECT_EQ(query_of(stale)->children().size(), 1u);
}

TEST_F(RosterModuleTest, RemovePushesSubscriptionRemoveAndTheNextVersion) {
  auto alice = h.login("alice");
  h.iq(alice, "get", "<query xmlns='jabber:iq:roster'/>");
  set_item(alice, "<item jid='bob@example.com'/>");
  auto reply = set_item(alice, "<item jid='bob@example.com' subscription='remove'/>");
  EXPECT_EQ(reply.attr_or("type"), "result") << xml::to_string(reply, ns::kClient);

  auto pushes = h.wait_for_all(alice, is_push, 2);
  ASSERT_EQ(pushes.size(), 2u);
  EXPECT_GT(version_of(pushes[1]), version_of(pushes[0]));
  const auto* item = query_of(pushes[1])->child("item", kRosterNs);
  ASSERT_NE(item, nullptr);
  EXPECT_EQ(item->attr_or("jid"), "bob@example.com");
  EXPECT_EQ(item->attr_or("subscription"), "remove");

  auto after = h.iq(alice, "get", "<query xmlns='jabber:iq:roster'/>");
  ASSERT_NE(query_of(after), nullptr);
  EXPECT_TRUE(query_of(after)->children().empty());
}

TEST_F(RosterModuleTest, RemovingAnUnknownItemIsItemNotFound) {
  auto alice = h.login("alice");
  auto reply = set_item(alice, "<item jid='nobody@example.com' subscription='remove'/>");
  EXPECT_EQ(reply.attr_or("type"), "error");
  EXPECT_EQ(ModuleHarness::error_of(reply), "item-not-found");
}

TEST_F(RosterModuleTest, AnotherAccountsRosterIsForbidden) {
  auto alice = h.login("alice");
  h.add_account("bob");
  auto reply = h.iq(alice, "get", "<query xmlns='jabber:iq:roster'/>", "bob@example.com");
  EXPECT_EQ(ModuleHarness::error_of(reply), "forbidden") << xml::to_string(reply, ns::kClient);
}

TEST_F(RosterModuleTest, ASetWithTwoItemsIsBadRequest) {
  auto alice = h.login("alice");
  auto reply = set_item(alice, "<item jid='a@example.com'/><item jid='b@example.com'/>");
  EXPECT_EQ(ModuleHarness::error_of(reply), "bad-request") << xml::to_string(reply, ns::kClient);
}

TEST_F(RosterModuleTest, TheRosterLivesOnInTheStore) {
  auto alice = h.login("alice");
  set_item(alice, "<item jid='carol@example.com' name='C'/>");
  auto items = h.storage->roster().items({"alice", "example.com"});
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].jid, "carol@example.com");
  EXPECT_EQ(items[0].name, "C");
}

}  // namespace
}  // namespace tern::modules
