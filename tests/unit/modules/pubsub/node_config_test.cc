// Node configuration: defaults, the form, publish-options preconditions
// (XEP-0060 §7.1.5) and the stored text.
#include "modules/pubsub/node_config.h"

#include <gtest/gtest.h>

namespace tern::modules::pubsub {
namespace {

adhoc::DataForm options(std::vector<std::pair<std::string, std::string>> fields,
                        const char* form_type = kPublishOptionsFormType) {
  adhoc::DataForm f;
  f.type = "submit";
  f.add("FORM_TYPE", "hidden").values = {form_type};
  for (auto& [var, value] : fields) f.add(var, "").values = {value};
  return f;
}

TEST(NodeConfig, PepNodesDefaultToPresenceAccessAndServiceNodesToOpen) {
  EXPECT_EQ(default_config(true).access_model, AccessModel::kPresence);
  EXPECT_EQ(default_config(false).access_model, AccessModel::kOpen);
  EXPECT_EQ(default_config(true).max_items, 1u);
}

TEST(NodeConfig, AFormSetsKnownFieldsAndIgnoresUnknownOnes) {
  NodeConfig c = default_config(true);
  auto err = apply_form(c, options({{"pubsub#access_model", "whitelist"},
                                    {"pubsub#max_items", "max"},
                                    {"pubsub#persist_items", "1"},
                                    {"pubsub#send_last_published_item", "never"},
                                    {"pubsub#something_else", "x"}},
                                   kNodeConfigFormType),
                        100);
  EXPECT_FALSE(err.has_value());
  EXPECT_EQ(c.access_model, AccessModel::kWhitelist);
  EXPECT_EQ(c.max_items, kMaxItemsMax);
  EXPECT_EQ(effective_max_items(c, 100), 100u);
  EXPECT_EQ(c.send_last, SendLastItem::kNever);
}

TEST(NodeConfig, BadValuesAreRefused) {
  NodeConfig c;
  EXPECT_TRUE(apply_form(c, options({{"pubsub#access_model", "authorize-me"}}), 100));
  EXPECT_TRUE(apply_form(c, options({{"pubsub#max_items", "0"}}), 100));
  EXPECT_TRUE(apply_form(c, options({{"pubsub#max_items", "101"}}), 100));
  EXPECT_TRUE(apply_form(c, options({{"pubsub#max_items", "12x"}}), 100));
  EXPECT_TRUE(apply_form(c, options({{"pubsub#persist_items", "yes"}}), 100));
  EXPECT_FALSE(apply_form(c, options({{"pubsub#max_items", "100"}}), 100));
}

TEST(NodeConfig, PreconditionsCompareValuesNotSpellings) {
  NodeConfig c = default_config(true);
  c.access_model = AccessModel::kOpen;
  c.persist_items = true;
  c.max_items = kMaxItemsMax;
  EXPECT_TRUE(meets_preconditions(c, options({{"pubsub#access_model", "open"},
                                              {"pubsub#persist_items", "1"},
                                              {"pubsub#max_items", "max"}}),
                                  100));
  EXPECT_TRUE(meets_preconditions(c, options({{"pubsub#persist_items", "true"}}), 100));
  EXPECT_FALSE(meets_preconditions(c, options({{"pubsub#access_model", "whitelist"}}), 100));
  EXPECT_FALSE(meets_preconditions(c, options({{"pubsub#max_items", "5"}}), 100));
  // An option the server does not know cannot be met.
  EXPECT_FALSE(meets_preconditions(c, options({{"pubsub#unknown", "1"}}), 100));
  EXPECT_TRUE(meets_preconditions(c, options({}), 100));
}

TEST(NodeConfig, TheStoredTextRoundTrips) {
  NodeConfig c = default_config(true);
  c.access_model = AccessModel::kRoster;
  c.roster_groups = {"Friends", "Family & co"};
  c.title = "<title>";
  c.max_items = 42;
  c.notify_retract = false;
  auto back = deserialize(serialize(c));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, c);
  EXPECT_FALSE(deserialize("<nonsense/>").has_value());
  EXPECT_FALSE(deserialize("not xml").has_value());
}

TEST(NodeConfig, TheFormOffersEveryOptionWithItsChoices) {
  auto form = to_form(default_config(true));
  EXPECT_EQ(form.form_type(), kNodeConfigFormType);
  const auto* access = form.field("pubsub#access_model");
  ASSERT_NE(access, nullptr);
  EXPECT_EQ(access->type, "list-single");
  EXPECT_EQ(access->values, std::vector<std::string>{"presence"});
  EXPECT_EQ(access->options.size(), 4u);
  EXPECT_EQ(form.value("pubsub#max_items"), "1");
  EXPECT_EQ(form.value("pubsub#persist_items"), "true");
}

}  // namespace
}  // namespace tern::modules::pubsub
