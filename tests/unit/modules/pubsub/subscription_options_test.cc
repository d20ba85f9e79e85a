// XEP-0060 §6.3 subscription options: the form, what is refused, storage text.
#include "modules/pubsub/subscription_options.h"

#include <gtest/gtest.h>

namespace tern::modules::pubsub {
namespace {

adhoc::DataForm submitted(std::vector<std::pair<std::string, std::vector<std::string>>> fields) {
  adhoc::DataForm form;
  form.type = "submit";
  form.add("FORM_TYPE", "hidden").values = {kSubscribeOptionsFormType};
  for (auto& [var, values] : fields) form.add(var, "").values = values;
  return form;
}

TEST(SubscriptionOptions, DefaultFormSaysDeliverNoDigestNoBodyAnyShow) {
  auto form = to_form(SubscriptionOptions{});
  EXPECT_EQ(form.type, "form");
  EXPECT_EQ(form.form_type(), kSubscribeOptionsFormType);
  EXPECT_EQ(form.value("pubsub#deliver"), "1");
  EXPECT_EQ(form.value("pubsub#digest"), "0");
  EXPECT_EQ(form.value("pubsub#include_body"), "0");
  EXPECT_TRUE(form.values("pubsub#show-values").empty());
  EXPECT_EQ(form.field("pubsub#show-values")->options.size(), 5u);
}

TEST(SubscriptionOptions, SubmittedFormIsApplied) {
  SubscriptionOptions o;
  EXPECT_FALSE(apply_form(o, submitted({{"pubsub#deliver", {"false"}},
                                        {"pubsub#include_body", {"true"}},
                                        {"pubsub#digest", {"0"}},
                                        {"pubsub#show-values", {"chat", "online"}},
                                        {"pubsub#expire", {"presence"}}})));  // unknown: ignored
  EXPECT_FALSE(o.deliver);
  EXPECT_TRUE(o.include_body);
  EXPECT_EQ(o.show_values, (std::set<std::string>{"chat", "online"}));
  auto back = to_form(o, "result");
  EXPECT_EQ(back.value("pubsub#deliver"), "0");
  EXPECT_EQ(back.values("pubsub#show-values"), (std::vector<std::string>{"chat", "online"}));
}

TEST(SubscriptionOptions, WhatCannotBeHonouredIsRefusedAndChangesNothing) {
  SubscriptionOptions o;
  o.include_body = true;
  const SubscriptionOptions before = o;
  EXPECT_TRUE(apply_form(o, submitted({{"pubsub#deliver", {"0"}}, {"pubsub#digest", {"1"}}})));
  EXPECT_TRUE(apply_form(o, submitted({{"pubsub#show-values", {"sleeping"}}})));
  EXPECT_TRUE(apply_form(o, submitted({{"pubsub#deliver", {"maybe"}}})));
  EXPECT_TRUE(apply_form(o, submitted({{"pubsub#deliver", {"1", "0"}}})));
  adhoc::DataForm other = submitted({});
  other.fields.front().values = {"http://jabber.org/protocol/pubsub#node_config"};
  EXPECT_TRUE(apply_form(o, other));
  EXPECT_EQ(o, before);
}

TEST(SubscriptionOptions, StorageTextRoundTrips) {
  EXPECT_EQ(serialize(SubscriptionOptions{}), "");
  EXPECT_EQ(deserialize_options(""), SubscriptionOptions{});
  SubscriptionOptions o;
  o.deliver = false;
  o.show_values = {"away", "xa"};
  EXPECT_EQ(deserialize_options(serialize(o)), o);
  o = SubscriptionOptions{};
  o.include_body = true;
  EXPECT_EQ(deserialize_options(serialize(o)), o);
  // Junk reads as the defaults, an unknown show is dropped.
  EXPECT_EQ(deserialize_options("what;ever=1;show=nap"), SubscriptionOptions{});
}

TEST(SubscriptionOptions, ShowValuesFilter) {
  SubscriptionOptions o;
  EXPECT_TRUE(wants_with_show(o, "dnd"));
  o.show_values = {"chat", "online"};
  EXPECT_TRUE(wants_with_show(o, ""));
  EXPECT_TRUE(wants_with_show(o, "chat"));
  EXPECT_FALSE(wants_with_show(o, "dnd"));
}

}  // namespace
}  // namespace tern::modules::pubsub
