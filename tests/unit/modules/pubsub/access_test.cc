// Access models (XEP-0060 §4.5) and the errors each refusal carries.
#include "modules/pubsub/access.h"

#include <gtest/gtest.h>

namespace tern::modules::pubsub {
namespace {

using xmpp::ErrorType;
using xmpp::StanzaCondition;

NodeConfig with(AccessModel m) {
  NodeConfig c;
  c.access_model = m;
  c.roster_groups = {"Friends"};
  return c;
}

Requester contact(std::string subscription, std::vector<std::string> groups = {}) {
  Requester r;
  r.subscription = std::move(subscription);
  r.groups = std::move(groups);
  return r;
}

TEST(PubsubAccess, TheOwnerAlwaysReads) {
  Requester owner;
  owner.is_owner = true;
  for (auto m : {AccessModel::kOpen, AccessModel::kPresence, AccessModel::kRoster, AccessModel::kWhitelist})
    EXPECT_FALSE(refuse_access(with(m), owner).has_value());
}

TEST(PubsubAccess, PresenceNeedsASubscriptionFromTheOwner) {
  EXPECT_FALSE(refuse_access(with(AccessModel::kPresence), contact("both")));
  EXPECT_FALSE(refuse_access(with(AccessModel::kPresence), contact("from")));
  auto err = refuse_access(with(AccessModel::kPresence), contact("to"));
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->condition, StanzaCondition::kNotAuthorized);
  EXPECT_EQ(err->type, ErrorType::kAuth);
  ASSERT_NE(err->app, nullptr);
  EXPECT_EQ(err->app->name(), "presence-subscription-required");
}

TEST(PubsubAccess, RosterNeedsAnAllowedGroup) {
  EXPECT_FALSE(refuse_access(with(AccessModel::kRoster), contact("both", {"Work", "Friends"})));
  auto err = refuse_access(with(AccessModel::kRoster), contact("both", {"Work"}));
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->condition, StanzaCondition::kNotAuthorized);
  EXPECT_EQ(err->app->name(), "not-in-roster-group");
}

TEST(PubsubAccess, WhitelistNeedsAnAffiliation) {
  auto err = refuse_access(with(AccessModel::kWhitelist), contact("both"));
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->condition, StanzaCondition::kNotAllowed);
  EXPECT_EQ(err->app->name(), "closed-node");
  Requester member = contact("none");
  member.affiliation = "member";
  EXPECT_FALSE(refuse_access(with(AccessModel::kWhitelist), member));
}

TEST(PubsubAccess, OpenLetsAnyoneButOutcasts) {
  EXPECT_FALSE(refuse_access(with(AccessModel::kOpen), contact("none")));
  Requester outcast = contact("both");
  outcast.affiliation = "outcast";
  auto err = refuse_access(with(AccessModel::kOpen), outcast);
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->condition, StanzaCondition::kForbidden);
}

}  // namespace
}  // namespace tern::modules::pubsub
