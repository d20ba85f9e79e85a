#include <gtest/gtest.h>

#include "modules/carbons/carbons.h"
#include "xml/parse_element.h"
#include "xml/serializer.h"
#include "xmpp/namespaces.h"

namespace tern::modules::carbons {
namespace {

bool eligible_xml(std::string_view text) {
  auto e = xml::parse_element(text, ns::kClient);
  EXPECT_TRUE(e) << text;
  return e && eligible(*e);
}

TEST(CarbonsEligible, ChatAndNormalWithBody) {
  EXPECT_TRUE(eligible_xml("<message xmlns='jabber:client' type='chat'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>"));
  EXPECT_TRUE(eligible_xml("<message xmlns='jabber:client'><body>hi</body></message>"));
  EXPECT_TRUE(eligible_xml("<message xmlns='jabber:client' type='normal'><body>hi</body></message>"));
}

TEST(CarbonsEligible, NotOtherTypesOrBodiless) {
  EXPECT_FALSE(eligible_xml("<message xmlns='jabber:client'><subject>x</subject></message>"));
  EXPECT_FALSE(eligible_xml("<message xmlns='jabber:client' type='groupchat'><body>x</body></message>"));
  EXPECT_FALSE(eligible_xml("<message xmlns='jabber:client' type='headline'><body>x</body></message>"));
  EXPECT_FALSE(eligible_xml("<message xmlns='jabber:client' type='error'><body>x</body></message>"));
  EXPECT_FALSE(eligible_xml("<presence xmlns='jabber:client'/>"));
}

TEST(CarbonsEligible, PrivateNoCopyMucAndCarbonsAreNotCopied) {
  EXPECT_FALSE(eligible_xml("<message xmlns='jabber:client' type='chat'><body>x</body><private xmlns='urn:xmpp:carbons:2'/></message>"));
  EXPECT_FALSE(eligible_xml("<message xmlns='jabber:client' type='chat'><body>x</body><no-copy xmlns='urn:xmpp:hints'/></message>"));
  EXPECT_FALSE(eligible_xml("<message xmlns='jabber:client' type='chat'><body>x</body><x xmlns='http://jabber.org/protocol/muc#user'/></message>"));
  EXPECT_FALSE(eligible_xml("<message xmlns='jabber:client' type='chat'><received xmlns='urn:xmpp:carbons:2'/></message>"));
  // Another hint does not stop the copy.
  EXPECT_TRUE(eligible_xml("<message xmlns='jabber:client' type='chat'><body>x</body><no-store xmlns='urn:xmpp:hints'/></message>"));
}

TEST(CarbonsWrap, ReceivedCopyIsFromTheBareJidToTheResource) {
  auto original = xml::parse_element(
      "<message xmlns='jabber:client' from='juliet@capulet.example/balcony' "
      "to='romeo@montague.example/garden' type='chat'><body>hi</body></message>", ns::kClient);
  ASSERT_TRUE(original);
  auto romeo = *xmpp::Jid::parse("romeo@montague.example");
  auto home = *xmpp::Jid::parse("romeo@montague.example/home");
  EXPECT_EQ(xml::to_string(wrap(Direction::kReceived, *original, romeo, home), ns::kClient),
            "<message from='romeo@montague.example' to='romeo@montague.example/home' type='chat'>"
            "<received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>"
            "<message xmlns='jabber:client' from='juliet@capulet.example/balcony' "
            "to='romeo@montague.example/garden' type='chat'><body>hi</body></message>"
            "</forwarded></received></message>");
}

TEST(CarbonsWrap, SentCopyKeepsTheType) {
  auto original = xml::parse_element("<message xmlns='jabber:client'><body>hi</body></message>", ns::kClient);
  ASSERT_TRUE(original);
  auto copy = wrap(Direction::kSent, *original, *xmpp::Jid::parse("a@b"), *xmpp::Jid::parse("a@b/r"));
  EXPECT_EQ(copy.attr_or("type"), "normal");
  ASSERT_TRUE(copy.child("sent", kNs));
  ASSERT_TRUE(copy.child("sent", kNs)->child("forwarded", kForwardNs));
}

}  // namespace
}  // namespace tern::modules::carbons
