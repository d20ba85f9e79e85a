// XEP-0049: storage keys and which queries are accepted.
#include "modules/private/private.h"

#include <gtest/gtest.h>

#include "router/router_harness.h"

namespace tern::modules {
namespace {

using router::fakes::parse_stanza;
using xmpp::StanzaCondition;

xml::Element query_of(std::string_view iq) { return *parse_stanza(iq).children().front(); }

TEST(PrivateKey, NamespaceInBracesThenName) {
  xml::Element e("exodus", "exodus:prefs");
  EXPECT_EQ(private_storage::document_key(e), "private:{exodus:prefs}exodus");
  xml::Element b("storage", "storage:bookmarks");
  EXPECT_EQ(private_storage::document_key(b), "private:{storage:bookmarks}storage");
}

TEST(PrivateReserved, JabberAndVcardNamespaces) {
  EXPECT_TRUE(private_storage::is_reserved("jabber:iq:roster"));
  EXPECT_TRUE(private_storage::is_reserved("http://jabber.org/protocol/muc"));
  EXPECT_TRUE(private_storage::is_reserved("vcard-temp"));
  EXPECT_FALSE(private_storage::is_reserved("storage:bookmarks"));
  EXPECT_FALSE(private_storage::is_reserved("exodus:prefs"));
  EXPECT_FALSE(private_storage::is_reserved("urn:xmpp:bookmarks:1"));
}

TEST(PrivateCheck, GetOfOneFragment) {
  auto q = query_of("<iq type='get' id='1'><query xmlns='jabber:iq:private'><exodus xmlns='exodus:prefs'/></query></iq>");
  auto c = private_storage::check_query(q, true, 100);
  ASSERT_FALSE(c.error.has_value());
  ASSERT_EQ(c.fragments.size(), 1u);
  EXPECT_EQ(c.fragments[0]->ns(), "exodus:prefs");
}

TEST(PrivateCheck, NoChildIsBadRequest) {
  auto q = query_of("<iq type='get' id='1'><query xmlns='jabber:iq:private'/></iq>");
  auto c = private_storage::check_query(q, true, 100);
  ASSERT_TRUE(c.error.has_value());
  EXPECT_EQ(c.error->condition, StanzaCondition::kBadRequest);
  EXPECT_EQ(private_storage::check_query(q, false, 100).error->condition, StanzaCondition::kBadRequest);
}

TEST(PrivateCheck, GetOfTwoIsBadRequestSetOfTwoIsFine) {
  auto q = query_of(
      "<iq type='get' id='1'><query xmlns='jabber:iq:private'>"
      "<a xmlns='urn:a'/><b xmlns='urn:b'/></query></iq>");
  EXPECT_EQ(private_storage::check_query(q, true, 100).error->condition, StanzaCondition::kBadRequest);
  auto set = private_storage::check_query(q, false, 100);
  EXPECT_FALSE(set.error.has_value());
  EXPECT_EQ(set.fragments.size(), 2u);
}

TEST(PrivateCheck, ChildWithoutOwnNamespaceIsNotAcceptable) {
  auto q = query_of("<iq type='set' id='1'><query xmlns='jabber:iq:private'><prefs/></query></iq>");
  EXPECT_EQ(private_storage::check_query(q, false, 100).error->condition, StanzaCondition::kNotAcceptable);
}

TEST(PrivateCheck, ReservedNamespaceIsNotAcceptable) {
  auto q = query_of(
      "<iq type='set' id='1'><query xmlns='jabber:iq:private'><vCard xmlns='vcard-temp'/></query></iq>");
  auto c = private_storage::check_query(q, false, 100);
  EXPECT_EQ(c.error->condition, StanzaCondition::kNotAcceptable);
  EXPECT_EQ(c.error->type, xmpp::ErrorType::kModify);
}

TEST(PrivateCheck, OversizedFragmentOfASetIsNotAcceptable) {
  auto q = query_of(
      "<iq type='set' id='1'><query xmlns='jabber:iq:private'>"
      "<a xmlns='urn:a'>0123456789012345678901234567890123456789</a></query></iq>");
  EXPECT_EQ(private_storage::check_query(q, false, 40).error->condition, StanzaCondition::kNotAcceptable);
  EXPECT_FALSE(private_storage::check_query(q, false, 1000).error.has_value());
}

TEST(PrivateCheck, WrongPayloadNameIsBadRequest) {
  auto q = query_of("<iq type='get' id='1'><storage xmlns='jabber:iq:private'><a xmlns='urn:a'/></storage></iq>");
  EXPECT_EQ(private_storage::check_query(q, true, 100).error->condition, StanzaCondition::kBadRequest);
}

}  // namespace
}  // namespace tern::modules
