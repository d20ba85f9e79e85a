// XEP-0060 §5.6 / §5.7 on real storage: a requester's own subscriptions
// (bare and full address, each with its own jid) and affiliations, the
// owner of a PEP service owning every node, and the node filter.
#include "modules/pubsub/own_entries.h"

#include <gtest/gtest.h>

#include "storage/sqlite/sqlite_storage.h"
#include "storage/temp_dir.h"
#include "xml/serializer.h"

namespace tern::modules::pubsub {
namespace {

const std::string kSvc = "pubsub.example.org";

class OwnEntriesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* n : {"a", "b"}) ASSERT_TRUE(ps.create_node({kSvc, n, ""}));
    ps.set_subscription(kSvc, "a", "carol@example.org", "subscribed");
    ps.set_subscription(kSvc, "b", "carol@example.org/phone", "pending");
    ps.set_subscription(kSvc, "b", "carol@example.org/laptop", "subscribed");
    ps.set_affiliation(kSvc, "b", "carol@example.org", "publisher");
  }

  std::string own(std::string_view jid, bool subs, bool owns = false, const std::string& node = {}) {
    auto entries = read_own_entries(ps, kSvc, *xmpp::Jid::parse(jid), subs, owns, node);
    return xml::to_string(own_entries_result(subs, entries), "");
  }

  storage::testing::TempDir dir;
  storage::sqlite::SqliteStorage storage{dir.file("tern.db"), storage::sqlite::SqliteOptions{.scram_iterations = 64}};
  storage::PubsubStore& ps = storage.pubsub();
};

TEST_F(OwnEntriesTest, SubscriptionsOfTheBareAndTheFullAddressEachNameTheirJid) {
  EXPECT_EQ(own("carol@example.org/phone", true),
            "<pubsub xmlns='http://jabber.org/protocol/pubsub'><subscriptions>"
            "<subscription node='a' jid='carol@example.org' subscription='subscribed'/>"
            "<subscription node='b' jid='carol@example.org/phone' subscription='pending'/>"
            "</subscriptions></pubsub>");
}

TEST_F(OwnEntriesTest, ABareRequesterIsNotListedTwice) {
  EXPECT_EQ(own("carol@example.org", true),
            "<pubsub xmlns='http://jabber.org/protocol/pubsub'><subscriptions>"
            "<subscription node='a' jid='carol@example.org' subscription='subscribed'/>"
            "</subscriptions></pubsub>");
}

TEST_F(OwnEntriesTest, TheNodeFilterKeepsOneNode) {
  EXPECT_EQ(own("carol@example.org/laptop", true, false, "b"),
            "<pubsub xmlns='http://jabber.org/protocol/pubsub'><subscriptions>"
            "<subscription node='b' jid='carol@example.org/laptop' subscription='subscribed'/>"
            "</subscriptions></pubsub>");
}

TEST_F(OwnEntriesTest, AffiliationsAreTheBareAddressesStoredOnes) {
  EXPECT_EQ(own("carol@example.org/phone", false),
            "<pubsub xmlns='http://jabber.org/protocol/pubsub'><affiliations>"
            "<affiliation node='b' affiliation='publisher'/></affiliations></pubsub>");
  EXPECT_EQ(own("dave@example.org/x", false),
            "<pubsub xmlns='http://jabber.org/protocol/pubsub'><affiliations/></pubsub>");
}

TEST_F(OwnEntriesTest, TheServiceOwnerOwnsEveryNode) {
  EXPECT_EQ(own("carol@example.org/phone", false, true),
            "<pubsub xmlns='http://jabber.org/protocol/pubsub'><affiliations>"
            "<affiliation node='a' affiliation='owner'/><affiliation node='b' affiliation='owner'/>"
            "</affiliations></pubsub>");
}

}  // namespace
}  // namespace tern::modules::pubsub
