// Publish-subscribe storage on the SQLite driver: nodes, items in publish
// order with the trim to max_items, affiliations, subscriptions, and the
// removal of an account's PEP with the account.
#include <gtest/gtest.h>

#include "storage/sqlite/sqlite_storage.h"
#include "storage/temp_dir.h"

namespace tern::storage::sqlite {
namespace {

using testing::TempDir;

const std::string kPep = "alice@example.org";

PubsubItemRecord item(std::string id, std::string payload = "<p/>") {
  return PubsubItemRecord{std::move(id), "alice@example.org/phone", std::move(payload), 1000};
}

std::vector<std::string> ids_of(const std::vector<PubsubItemRecord>& items) {
  std::vector<std::string> out;
  for (const auto& i : items) out.push_back(i.id);
  return out;
}

class SqlitePubsubTest : public ::testing::Test {
 protected:
  TempDir dir_;
  SqliteStorage storage_{dir_.file("tern.db"), SqliteOptions{.scram_iterations = 64}};
  PubsubStore& pubsub_ = storage_.pubsub();
};

TEST_F(SqlitePubsubTest, NodesAreCreatedOnceConfiguredListedAndDeleted) {
  EXPECT_FALSE(pubsub_.node(kPep, "n").has_value());
  EXPECT_TRUE(pubsub_.create_node({kPep, "n", "c1"}));
  EXPECT_FALSE(pubsub_.create_node({kPep, "n", "other"}));
  EXPECT_TRUE(pubsub_.create_node({kPep, "a", "c2"}));
  EXPECT_TRUE(pubsub_.create_node({"bob@example.org", "n", "c3"}));
  EXPECT_EQ(pubsub_.node(kPep, "n"), (PubsubNodeRecord{kPep, "n", "c1"}));
  EXPECT_TRUE(pubsub_.set_config(kPep, "n", "c9"));
  EXPECT_FALSE(pubsub_.set_config(kPep, "missing", "c9"));
  auto nodes = pubsub_.nodes(kPep);
  ASSERT_EQ(nodes.size(), 2u);
  EXPECT_EQ(nodes[0], (PubsubNodeRecord{kPep, "a", "c2"}));
  EXPECT_EQ(nodes[1], (PubsubNodeRecord{kPep, "n", "c9"}));
  ASSERT_TRUE(pubsub_.publish(kPep, "n", item("1"), 0));
  pubsub_.set_affiliation(kPep, "n", "bob@example.org", "publisher");
  pubsub_.set_subscription(kPep, "n", "bob@example.org", "subscribed");
  EXPECT_TRUE(pubsub_.delete_node(kPep, "n"));
  EXPECT_FALSE(pubsub_.delete_node(kPep, "n"));
  // A node of the same name made again starts empty.
  ASSERT_TRUE(pubsub_.create_node({kPep, "n", "c1"}));
  EXPECT_TRUE(pubsub_.items(kPep, "n", {}, 0).empty());
  EXPECT_TRUE(pubsub_.affiliations(kPep, "n").empty());
  EXPECT_TRUE(pubsub_.subscriptions(kPep, "n").empty());
  EXPECT_EQ(pubsub_.nodes("bob@example.org").size(), 1u);
}

TEST_F(SqlitePubsubTest, ItemsComeNewestFirstAndARepublishedIdBecomesNewest) {
  EXPECT_FALSE(pubsub_.publish(kPep, "n", item("1"), 0));  // no node
  ASSERT_TRUE(pubsub_.create_node({kPep, "n", ""}));
  for (auto id : {"1", "2", "3"}) ASSERT_TRUE(pubsub_.publish(kPep, "n", item(id), 0));
  EXPECT_EQ(ids_of(pubsub_.items(kPep, "n", {}, 0)), (std::vector<std::string>{"3", "2", "1"}));
  ASSERT_TRUE(pubsub_.publish(kPep, "n", item("1", "<new/>"), 0));
  auto all = pubsub_.items(kPep, "n", {}, 0);
  EXPECT_EQ(ids_of(all), (std::vector<std::string>{"1", "3", "2"}));
  EXPECT_EQ(all[0], item("1", "<new/>"));
  EXPECT_EQ(ids_of(pubsub_.items(kPep, "n", {}, 2)), (std::vector<std::string>{"1", "3"}));
  EXPECT_EQ(ids_of(pubsub_.items(kPep, "n", {"2", "missing", "3"}, 0)),
            (std::vector<std::string>{"3", "2"}));
  EXPECT_TRUE(pubsub_.retract(kPep, "n", "3"));
  EXPECT_FALSE(pubsub_.retract(kPep, "n", "3"));
  EXPECT_EQ(ids_of(pubsub_.items(kPep, "n", {}, 0)), (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(pubsub_.purge(kPep, "n"), 2u);
  EXPECT_TRUE(pubsub_.items(kPep, "n", {}, 0).empty());
}

TEST_F(SqlitePubsubTest, PublishKeepsOnlyTheNewestMaxItems) {
  ASSERT_TRUE(pubsub_.create_node({kPep, "n", ""}));
  ASSERT_TRUE(pubsub_.create_node({kPep, "other", ""}));
  ASSERT_TRUE(pubsub_.publish(kPep, "other", item("x"), 1));
  for (auto id : {"1", "2", "3", "4"}) ASSERT_TRUE(pubsub_.publish(kPep, "n", item(id), 2));
  EXPECT_EQ(ids_of(pubsub_.items(kPep, "n", {}, 0)), (std::vector<std::string>{"4", "3"}));
  ASSERT_TRUE(pubsub_.publish(kPep, "n", item("5"), 1));
  EXPECT_EQ(ids_of(pubsub_.items(kPep, "n", {}, 0)), (std::vector<std::string>{"5"}));
  EXPECT_EQ(ids_of(pubsub_.items(kPep, "other", {}, 0)), (std::vector<std::string>{"x"}));
}

TEST_F(SqlitePubsubTest, AffiliationsAndSubscriptionsAreSetAndRemoved) {
  ASSERT_TRUE(pubsub_.create_node({"pubsub.example.org", "n", ""}));
  ASSERT_TRUE(pubsub_.create_node({"pubsub.example.org", "m", ""}));
  const std::string svc = "pubsub.example.org";
  pubsub_.set_affiliation(svc, "n", "alice@example.org", "owner");
  pubsub_.set_affiliation(svc, "n", "bob@example.org", "publisher");
  pubsub_.set_affiliation(svc, "n", "bob@example.org", "outcast");
  EXPECT_EQ(pubsub_.affiliations(svc, "n"),
            (std::vector<PubsubEntry>{{"alice@example.org", "owner"}, {"bob@example.org", "outcast"}}));
  pubsub_.set_affiliation(svc, "n", "bob@example.org", "none");
  EXPECT_EQ(pubsub_.affiliations(svc, "n").size(), 1u);
  pubsub_.set_subscription(svc, "n", "carol@example.org/x", "subscribed");
  pubsub_.set_subscription(svc, "m", "carol@example.org/x", "pending");
  EXPECT_EQ(pubsub_.subscriptions(svc, "n"),
            (std::vector<PubsubEntry>{{"carol@example.org/x", "subscribed"}}));
  EXPECT_EQ(pubsub_.subscriptions_of(svc, "carol@example.org/x"),
            (std::vector<PubsubEntry>{{"m", "pending"}, {"n", "subscribed"}}));
  pubsub_.set_subscription(svc, "n", "carol@example.org/x", "none");
  EXPECT_TRUE(pubsub_.subscriptions(svc, "n").empty());
}

TEST_F(SqlitePubsubTest, SubscriptionOptionsStayWithTheSubscriptionAndGoWithIt) {
  const std::string svc = "pubsub.example.org";
  ASSERT_TRUE(pubsub_.create_node({svc, "n", "c"}));
  EXPECT_FALSE(pubsub_.set_subscription_options(svc, "n", "carol@example.org", "deliver=0"));
  pubsub_.set_subscription(svc, "n", "carol@example.org", "subscribed");
  EXPECT_EQ(pubsub_.subscriptions(svc, "n").front().options, "");
  EXPECT_TRUE(pubsub_.set_subscription_options(svc, "n", "carol@example.org", "deliver=0"));
  // A state change keeps them; unsubscribing drops them.
  pubsub_.set_subscription(svc, "n", "carol@example.org", "subscribed");
  EXPECT_EQ(pubsub_.subscriptions(svc, "n"),
            (std::vector<PubsubEntry>{{"carol@example.org", "subscribed", "deliver=0"}}));
  pubsub_.set_subscription(svc, "n", "carol@example.org", "none");
  pubsub_.set_subscription(svc, "n", "carol@example.org", "subscribed");
  EXPECT_EQ(pubsub_.subscriptions(svc, "n").front().options, "");
}

TEST_F(SqlitePubsubTest, AnAccountsPepGoesWithTheAccount) {
  ASSERT_TRUE(storage_.accounts().create({"alice", "example.org"}, "secret"));
  ASSERT_TRUE(pubsub_.create_node({kPep, "n", ""}));
  ASSERT_TRUE(pubsub_.create_node({"bob@example.org", "n", ""}));
  ASSERT_TRUE(pubsub_.publish(kPep, "n", item("1"), 0));
  ASSERT_TRUE(storage_.accounts().remove({"alice", "example.org"}));
  EXPECT_TRUE(pubsub_.nodes(kPep).empty());
  EXPECT_TRUE(pubsub_.items(kPep, "n", {}, 0).empty());
  EXPECT_EQ(pubsub_.nodes("bob@example.org").size(), 1u);
  pubsub_.remove_service("bob@example.org");
  EXPECT_TRUE(pubsub_.nodes("bob@example.org").empty());
}

TEST_F(SqlitePubsubTest, ItemsSurviveAReopen) {
  const auto path = dir_.file("other.db");
  {
    SqliteStorage s(path, SqliteOptions{.scram_iterations = 64});
    ASSERT_TRUE(s.pubsub().create_node({kPep, "n", "cfg"}));
    ASSERT_TRUE(s.pubsub().publish(kPep, "n", item("1", "<x xmlns='y'>z</x>"), 0));
  }
  SqliteStorage s(path, SqliteOptions{.scram_iterations = 64});
  EXPECT_EQ(s.pubsub().node(kPep, "n")->config, "cfg");
  EXPECT_EQ(s.pubsub().items(kPep, "n", {}, 0).at(0), item("1", "<x xmlns='y'>z</x>"));
}

}  // namespace
}  // namespace tern::storage::sqlite
