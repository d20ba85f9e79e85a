// XEP-0054: what a vCard set may store, and stored vCards read back.
#include "modules/vcard/vcard.h"
#include "xml/parse_element.h"

#include <gtest/gtest.h>

#include "router/router_harness.h"
#include "xml/serializer.h"
#include "xmpp/namespaces.h"

namespace tern::modules {
namespace {

using router::fakes::parse_stanza;
using xmpp::StanzaCondition;

xml::Element payload_of(std::string_view iq) { return *parse_stanza(iq).children().front(); }

TEST(VcardCheckSet, AcceptsAVcardWithinTheLimit) {
  auto v = payload_of("<iq type='set' id='1'><vCard xmlns='vcard-temp'><FN>A</FN></vCard></iq>");
  EXPECT_FALSE(vcard::check_set(v, 100, 100).has_value());
}

TEST(VcardCheckSet, TooLargeIsNotAcceptable) {
  auto v = payload_of("<iq type='set' id='1'><vCard xmlns='vcard-temp'><FN>A</FN></vCard></iq>");
  auto err = vcard::check_set(v, 101, 100);
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->condition, StanzaCondition::kNotAcceptable);
  EXPECT_EQ(err->type, xmpp::ErrorType::kModify);
}

TEST(VcardCheckSet, WrongElementIsBadRequest) {
  auto v = payload_of("<iq type='set' id='1'><vcard xmlns='vcard-temp'/></iq>");
  auto err = vcard::check_set(v, 10, 100);
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->condition, StanzaCondition::kBadRequest);
}

TEST(VcardParseStored, RoundTripsWhatIsStored) {
  auto v = payload_of(
      "<iq type='set' id='1'><vCard xmlns='vcard-temp'><FN>Jos&amp;&lt;\xC3\xA9</FN>"
      "<PHOTO><TYPE>image/png</TYPE><BINVAL>AAAA</BINVAL></PHOTO>"
      "<x xmlns='urn:example' a='1'/></vCard></iq>");
  auto text = xml::to_string(v, "");
  auto back = xml::parse_element(text, ns::kClient);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, v);
  EXPECT_EQ(xml::to_string(*back, ""), text);
}

TEST(VcardParseStored, GarbageIsNothing) {
  EXPECT_FALSE(xml::parse_element("<vCard xmlns='vcard-temp'>", ns::kClient).has_value());
  EXPECT_FALSE(xml::parse_element("not xml", ns::kClient).has_value());
  EXPECT_FALSE(xml::parse_element("", ns::kClient).has_value());
}

}  // namespace
}  // namespace tern::modules
