#include <gtest/gtest.h>

#include "modules/push/protocol.h"
#include "xml/parse_element.h"
#include "xml/serializer.h"
#include "xmpp/namespaces.h"

namespace tern::modules::push {
namespace {

xml::Element parse(std::string_view text) {
  auto e = xml::parse_element(text, ns::kClient);
  EXPECT_TRUE(e) << text;
  return e ? *e : xml::Element();
}

std::string field(const xml::Element& form, std::string_view var) {
  for (const auto* f : form.children())
    if (f->attr_or("var") == var) return f->child_text("value", kDataNs);
  return "<absent>";
}

const xml::Element& summary_form(const xml::Element& iq) {
  const auto* form = iq.child("pubsub", kPubsubNs)
                         ->child("publish", kPubsubNs)
                         ->child("item", kPubsubNs)
                         ->child("notification", kNs)
                         ->child("x", kDataNs);
  EXPECT_NE(form, nullptr);
  return *form;
}

constexpr std::string_view kOptions =
    "<x xmlns='jabber:x:data' type='submit'>"
    "<field var='FORM_TYPE'><value>http://jabber.org/protocol/pubsub#publish-options</value></field>"
    "<field var='secret'><value>s3cr3t</value></field></x>";

TEST(PushEnable, TakesJidNodeAndPublishOptions) {
  auto parsed = parse_enable(parse(
      "<enable xmlns='urn:xmpp:push:0' jid='Push.Example' node='n1'>" + std::string(kOptions) +
      "</enable>"));
  ASSERT_TRUE(std::holds_alternative<Registration>(parsed));
  const auto& r = std::get<Registration>(parsed);
  EXPECT_EQ(r.jid, "push.example");
  EXPECT_EQ(r.node, "n1");
  ASSERT_TRUE(r.publish_options);
  EXPECT_EQ(field(*r.publish_options, "secret"), "s3cr3t");
}

TEST(PushEnable, RefusesMissingOrMalformedJidAndForeignForms) {
  auto missing = parse_enable(parse("<enable xmlns='urn:xmpp:push:0' node='n'/>"));
  ASSERT_TRUE(std::holds_alternative<xmpp::StanzaError>(missing));
  EXPECT_EQ(std::get<xmpp::StanzaError>(missing).condition, xmpp::StanzaCondition::kBadRequest);
  auto malformed = parse_enable(parse("<enable xmlns='urn:xmpp:push:0' jid='a@@b' node='n'/>"));
  ASSERT_TRUE(std::holds_alternative<xmpp::StanzaError>(malformed));
  EXPECT_EQ(std::get<xmpp::StanzaError>(malformed).condition, xmpp::StanzaCondition::kJidMalformed);
  auto foreign = parse_enable(parse(
      "<enable xmlns='urn:xmpp:push:0' jid='p.example' node='n'><x xmlns='jabber:x:data'>"
      "<field var='FORM_TYPE'><value>urn:other</value></field></x></enable>"));
  EXPECT_TRUE(std::holds_alternative<xmpp::StanzaError>(foreign));
}

TEST(PushRegistrations, SamePairReplacesDisableByJidOrPair) {
  std::vector<Registration> list;
  EXPECT_TRUE(add_registration(list, {"p.example", "a", std::nullopt}));
  EXPECT_TRUE(add_registration(list, {"p.example", "b", std::nullopt}));
  EXPECT_TRUE(add_registration(list, {"q.example", "a", std::nullopt}));
  EXPECT_TRUE(add_registration(list, {"p.example", "a", parse(kOptions)}));
  ASSERT_EQ(list.size(), 3u);
  EXPECT_TRUE(list[0].publish_options);
  EXPECT_EQ(remove_registrations(list, "p.example", "b"), 1u);
  EXPECT_EQ(remove_registrations(list, "q.example", ""), 1u);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].node, "a");
  EXPECT_EQ(remove_registrations(list, "nobody.example", ""), 0u);
}

TEST(PushRegistrations, ListIsBounded) {
  std::vector<Registration> list;
  for (std::size_t i = 0; i < kMaxRegistrations; ++i)
    EXPECT_TRUE(add_registration(list, {"p.example", std::to_string(i), std::nullopt}));
  EXPECT_FALSE(add_registration(list, {"p.example", "one-more", std::nullopt}));
  EXPECT_TRUE(add_registration(list, {"p.example", "0", parse(kOptions)}));  // replacing is fine
}

TEST(PushRegistrations, DocumentRoundTrip) {
  std::vector<Registration> list{{"p.example", "a", parse(kOptions)}, {"app@q.example/r", "", std::nullopt}};
  EXPECT_EQ(from_document(to_document(list)), list);
  EXPECT_TRUE(from_document("not xml").empty());
  EXPECT_TRUE(from_document("<other xmlns='x'/>").empty());
}

TEST(PushNotable, BodiesAndEncryptedPayloadsOnly) {
  EXPECT_TRUE(is_notable(parse("<message xmlns='jabber:client' type='chat'><body>hi</body></message>")));
  EXPECT_TRUE(is_notable(parse("<message xmlns='jabber:client'><body>hi</body></message>")));
  EXPECT_TRUE(is_notable(parse(
      "<message xmlns='jabber:client' type='chat'><encrypted xmlns='eu.siacs.conversations.axolotl'/></message>")));
  EXPECT_FALSE(is_notable(parse(
      "<message xmlns='jabber:client' type='chat'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>")));
  EXPECT_FALSE(is_notable(parse("<message xmlns='jabber:client' type='groupchat'><body>x</body></message>")));
  EXPECT_FALSE(is_notable(parse("<message xmlns='jabber:client' type='headline'><body>x</body></message>")));
  EXPECT_FALSE(is_notable(parse("<message xmlns='jabber:client' type='error'><body>x</body></message>")));
  EXPECT_FALSE(is_notable(parse("<presence xmlns='jabber:client'/>")));
}

TEST(PushPublish, SummaryWithoutBodyByDefault) {
  auto message = parse("<message xmlns='jabber:client' type='chat'><body>private words</body></message>");
  auto sender = *xmpp::Jid::parse("juliet@capulet.example/balcony");
  auto account = *xmpp::Jid::parse("romeo@montague.example");
  Registration r{"push.example", "node-1", parse(kOptions)};
  auto iq = build_publish(account, r, summarize(message, sender, false), "id-1");
  EXPECT_EQ(iq.attr_or("type"), "set");
  EXPECT_EQ(iq.attr_or("from"), "romeo@montague.example");
  EXPECT_EQ(iq.attr_or("to"), "push.example");
  EXPECT_EQ(iq.attr_or("id"), "id-1");
  EXPECT_EQ(iq.child("pubsub", kPubsubNs)->child("publish", kPubsubNs)->attr_or("node"), "node-1");
  const auto& form = summary_form(iq);
  EXPECT_EQ(form.attr_or("type"), "submit");
  EXPECT_EQ(field(form, "FORM_TYPE"), kSummaryType);
  EXPECT_EQ(field(form, "message-count"), "1");
  EXPECT_EQ(field(form, "last-message-sender"), "juliet@capulet.example");
  EXPECT_EQ(field(form, "last-message-body"), "<absent>");
  EXPECT_EQ(xml::to_string(iq, ns::kClient).find("private words"), std::string::npos);
  const auto* options = iq.child("pubsub", kPubsubNs)->child("publish-options", kPubsubNs);
  ASSERT_NE(options, nullptr);
  EXPECT_EQ(field(*options->child("x", kDataNs), "FORM_TYPE"), kPublishOptionsType);
  EXPECT_EQ(field(*options->child("x", kDataNs), "secret"), "s3cr3t");
}

TEST(PushPublish, BodyWhenConfiguredNoOptionsWhenNoneGiven) {
  auto message = parse("<message xmlns='jabber:client' type='chat'><body>hello</body></message>");
  auto iq = build_publish(*xmpp::Jid::parse("a@b.example"), {"p.example", "n", std::nullopt},
                          summarize(message, *xmpp::Jid::parse("c@d.example/r"), true), "x");
  EXPECT_EQ(field(summary_form(iq), "last-message-body"), "hello");
  EXPECT_EQ(iq.child("pubsub", kPubsubNs)->child("publish-options", kPubsubNs), nullptr);
}

}  // namespace
}  // namespace tern::modules::push
