// The pubsub request parser: each request shape, and the errors XEP-0060
// gives for malformed ones.
#include "modules/pubsub/request.h"

#include <gtest/gtest.h>

#include "xml/parse_element.h"
#include "xml/serializer.h"
#include "xmpp/namespaces.h"

namespace tern::modules::pubsub {
namespace {

using xmpp::StanzaCondition;

std::variant<Request, xmpp::StanzaError> parse(std::string_view text, bool is_set) {
  auto el = xml::parse_element(text, ns::kClient);
  EXPECT_TRUE(el.has_value()) << text;
  return parse_request(*el, is_set);
}

Request ok(std::string_view text, bool is_set) {
  auto r = parse(text, is_set);
  EXPECT_TRUE(std::holds_alternative<Request>(r)) << text;
  return std::holds_alternative<Request>(r) ? std::get<Request>(r) : Request{};
}

xmpp::StanzaError refused(std::string_view text, bool is_set) {
  auto r = parse(text, is_set);
  EXPECT_TRUE(std::holds_alternative<xmpp::StanzaError>(r)) << text;
  return std::holds_alternative<xmpp::StanzaError>(r) ? std::get<xmpp::StanzaError>(r)
                                                      : xmpp::StanzaError{};
}

std::string app_of(const xmpp::StanzaError& e) { return e.app ? e.app->name() : ""; }

TEST(PubsubRequest, PublishWithOptions) {
  auto r = ok("<pubsub xmlns='http://jabber.org/protocol/pubsub'>"
              "<publish node='urn:xmpp:avatar:metadata'><item id='abc'><metadata xmlns='urn:xmpp:avatar:metadata'/></item></publish>"
              "<publish-options><x xmlns='jabber:x:data' type='submit'>"
              "<field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#publish-options</value></field>"
              "<field var='pubsub#access_model'><value>open</value></field></x></publish-options></pubsub>",
              true);
  EXPECT_EQ(r.action, Action::kPublish);
  EXPECT_EQ(r.node, "urn:xmpp:avatar:metadata");
  ASSERT_EQ(r.items.size(), 1u);
  EXPECT_EQ(r.items[0].id, "abc");
  ASSERT_TRUE(r.items[0].payload.has_value());
  EXPECT_EQ(r.items[0].payload->name(), "metadata");
  ASSERT_TRUE(r.form.has_value());
  EXPECT_EQ(r.form->value("pubsub#access_model"), "open");
}

TEST(PubsubRequest, PublishNeedsANodeAndAtMostOneItem) {
  EXPECT_EQ(app_of(refused("<pubsub xmlns='http://jabber.org/protocol/pubsub'><publish/></pubsub>", true)),
            "nodeid-required");
  auto two = refused("<pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='n'>"
                     "<item/><item/></publish></pubsub>",
                     true);
  EXPECT_EQ(two.condition, StanzaCondition::kBadRequest);
  EXPECT_EQ(app_of(two), "invalid-payload");
}

TEST(PubsubRequest, RetractAndItems) {
  auto r = ok("<pubsub xmlns='http://jabber.org/protocol/pubsub'><retract node='n' notify='true'>"
              "<item id='1'/><item id='2'/></retract></pubsub>",
              true);
  EXPECT_EQ(r.action, Action::kRetract);
  EXPECT_TRUE(r.notify);
  EXPECT_EQ(r.items.size(), 2u);
  EXPECT_EQ(app_of(refused("<pubsub xmlns='http://jabber.org/protocol/pubsub'><retract node='n'/></pubsub>", true)),
            "item-required");
  auto items = ok("<pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='n' max_items='3'/>"
                  "<set xmlns='http://jabber.org/protocol/rsm'><max>2</max><before/></set></pubsub>",
                  false);
  EXPECT_EQ(items.action, Action::kItems);
  EXPECT_EQ(items.max_items, 3u);
  ASSERT_TRUE(items.rsm.has_value());
  EXPECT_EQ(items.rsm->max, 2u);
  EXPECT_EQ(items.rsm->before, "");
  EXPECT_EQ(refused("<pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='n' max_items='-1'/></pubsub>", false)
                .condition,
            StanzaCondition::kBadRequest);
}

TEST(PubsubRequest, OwnerRequests) {
  EXPECT_EQ(ok("<pubsub xmlns='http://jabber.org/protocol/pubsub#owner'><configure node='n'/></pubsub>", false).action,
            Action::kGetConfig);
  EXPECT_EQ(refused("<pubsub xmlns='http://jabber.org/protocol/pubsub#owner'><configure node='n'/></pubsub>", true)
                .condition,
            StanzaCondition::kBadRequest);  // a set needs the form
  EXPECT_EQ(ok("<pubsub xmlns='http://jabber.org/protocol/pubsub#owner'><delete node='n'/></pubsub>", true).action,
            Action::kDelete);
  EXPECT_EQ(ok("<pubsub xmlns='http://jabber.org/protocol/pubsub#owner'><purge node='n'/></pubsub>", true).action,
            Action::kPurge);
  EXPECT_EQ(ok("<pubsub xmlns='http://jabber.org/protocol/pubsub#owner'><default/></pubsub>", false).action,
            Action::kDefault);
  auto aff = ok("<pubsub xmlns='http://jabber.org/protocol/pubsub#owner'><affiliations node='n'>"
                "<affiliation jid='bob@example.org' affiliation='member'/></affiliations></pubsub>",
                true);
  EXPECT_EQ(aff.action, Action::kSetNodeAffiliations);
  ASSERT_EQ(aff.changes.size(), 1u);
  EXPECT_EQ(aff.changes[0].second, "member");
}

TEST(PubsubRequest, CreateWithConfigureAndSubscribe) {
  auto c = ok("<pubsub xmlns='http://jabber.org/protocol/pubsub'><create node='n'/><configure/></pubsub>", true);
  EXPECT_EQ(c.action, Action::kCreate);
  EXPECT_FALSE(c.form.has_value());
  auto s = ok("<pubsub xmlns='http://jabber.org/protocol/pubsub'><subscribe node='n' jid='a@b/c'/></pubsub>", true);
  EXPECT_EQ(s.action, Action::kSubscribe);
  EXPECT_EQ(s.jid, "a@b/c");
}

TEST(PubsubRequest, SubscriptionOptionsRequests) {
  constexpr const char* kForm =
      "<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'>"
      "<value>http://jabber.org/protocol/pubsub#subscribe_options</value></field>"
      "<field var='pubsub#deliver'><value>0</value></field></x>";
  auto g = ok("<pubsub xmlns='http://jabber.org/protocol/pubsub'><options node='n' jid='a@b'/></pubsub>", false);
  EXPECT_EQ(g.action, Action::kGetOptions);
  EXPECT_EQ(g.jid, "a@b");
  auto s = ok(std::string("<pubsub xmlns='http://jabber.org/protocol/pubsub'><options node='n' jid='a@b'>") +
                  kForm + "</options></pubsub>",
              true);
  EXPECT_EQ(s.action, Action::kSetOptions);
  ASSERT_TRUE(s.form);
  EXPECT_EQ(s.form->value("pubsub#deliver"), "0");
  auto sub = ok(std::string("<pubsub xmlns='http://jabber.org/protocol/pubsub'><subscribe node='n' jid='a@b'/>"
                            "<options>") + kForm + "</options></pubsub>",
                true);
  EXPECT_EQ(sub.action, Action::kSubscribe);
  ASSERT_TRUE(sub.form);
  // §6.3.4.3: no jid; §6.3.7: <options/> beside <subscribe/> names neither.
  auto no_jid = refused("<pubsub xmlns='http://jabber.org/protocol/pubsub'><options node='n'/></pubsub>", false);
  EXPECT_EQ(no_jid.condition, StanzaCondition::kBadRequest);
  ASSERT_TRUE(no_jid.app);
  EXPECT_EQ(no_jid.app->name(), "jid-required");
  EXPECT_EQ(refused(std::string("<pubsub xmlns='http://jabber.org/protocol/pubsub'><subscribe node='n' jid='a@b'/>"
                                "<options jid='a@b'>") + kForm + "</options></pubsub>",
                    true)
                .condition,
            StanzaCondition::kBadRequest);
}

TEST(PubsubRequest, UnknownOrEmptyRequestsAreRefused) {
  EXPECT_EQ(refused("<pubsub xmlns='http://jabber.org/protocol/pubsub'/>", true).condition,
            StanzaCondition::kBadRequest);
  EXPECT_EQ(refused("<pubsub xmlns='http://jabber.org/protocol/pubsub'><frobnicate/></pubsub>", true).condition,
            StanzaCondition::kFeatureNotImplemented);
  EXPECT_EQ(refused("<pubsub xmlns='urn:other'><items node='n'/></pubsub>", false).condition,
            StanzaCondition::kBadRequest);
}

TEST(PubsubRequest, ErrorConditionsSerialiseInThePubsubErrorsNamespace) {
  auto err = pubsub_error(StanzaCondition::kConflict, "precondition-not-met");
  auto el = xmpp::make_error_element(err);
  const std::string text = xml::to_string(el, ns::kClient);
  EXPECT_NE(text.find("<conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"), std::string::npos) << text;
  EXPECT_NE(text.find("<precondition-not-met xmlns='http://jabber.org/protocol/pubsub#errors'/>"),
            std::string::npos)
      << text;
  auto u = unsupported("subscription-options");
  ASSERT_NE(u.app, nullptr);
  EXPECT_EQ(u.app->attr_or("feature"), "subscription-options");
}

}  // namespace
}  // namespace tern::modules::pubsub
