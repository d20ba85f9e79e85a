#include "stream/dialback.h"

#include <gtest/gtest.h>

#include "xml/parse_element.h"
#include "xmpp/namespaces.h"

namespace tern::stream {
namespace {

TEST(DialbackKey, MatchesTheXep0220Example) {
  // XEP-0220 §2.1.2 / §2.3.2: secret 'd14lb4ck43v3r', capulet → montague.
  EXPECT_EQ(dialback_key("d14lb4ck43v3r", "capulet.example", "montague.example", "417GAF25"),
            "225cc5aa6a071133249d25fef42ae516fc7a86c523aa1c6980a7f73e784c972d");
}

TEST(DialbackKey, DependsOnEveryInput) {
  auto k = dialback_key("s", "a", "b", "id");
  EXPECT_NE(k, dialback_key("t", "a", "b", "id"));
  EXPECT_NE(k, dialback_key("s", "b", "a", "id"));
  EXPECT_NE(k, dialback_key("s", "a", "b", "id2"));
  EXPECT_TRUE(keys_equal(k, dialback_key("s", "a", "b", "id")));
  EXPECT_FALSE(keys_equal("", ""));
}

xml::Element parse(const std::string& text) {
  auto el = xml::parse_element(
      "<wrap xmlns:db='jabber:server:dialback'>" + text + "</wrap>", ns::kClient);
  EXPECT_TRUE(el);
  return *el->children().front();
}

TEST(ParseDialback, ResultRequestAndVerifyAnswer) {
  auto r = parse_dialback(parse("<db:result from='a.example' to='b.example'> k3y </db:result>"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, DialbackMessage::Kind::kResult);
  EXPECT_EQ(r->key, "k3y");
  EXPECT_TRUE(r->type.empty());
  auto v = parse_dialback(parse("<db:verify from='b.example' to='a.example' id='x' type='valid'/>"));
  ASSERT_TRUE(v);
  EXPECT_EQ(v->kind, DialbackMessage::Kind::kVerify);
  EXPECT_EQ(v->type, "valid");
  EXPECT_EQ(v->id, "x");
}

TEST(ParseDialback, RefusesIncompleteElements) {
  EXPECT_FALSE(parse_dialback(parse("<db:result to='b'>k</db:result>")));
  EXPECT_FALSE(parse_dialback(parse("<db:verify from='a' to='b'>k</db:verify>")));
  EXPECT_FALSE(parse_dialback(parse("<db:result from='a' to='b'/>")));
  EXPECT_FALSE(parse_dialback(parse("<db:other from='a' to='b'>k</db:other>")));
}

TEST(DialbackSerialise, RequestAnswerAndErrorAreEscaped) {
  DialbackMessage m{DialbackMessage::Kind::kVerify, "a'b", "c", "id", "", "key"};
  EXPECT_EQ(dialback_request(m), "<db:verify from='a&apos;b' to='c' id='id'>key</db:verify>");
  EXPECT_EQ(dialback_answer(DialbackMessage::Kind::kResult, "b", "a", "", "valid"),
            "<db:result from='b' to='a' type='valid'/>");
  EXPECT_EQ(dialback_error(DialbackMessage::Kind::kResult, "b", "a", "", "item-not-found"),
            "<db:result from='b' to='a' type='error'><error type='cancel'><item-not-found "
            "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></db:result>");
}

}  // namespace
}  // namespace tern::stream
