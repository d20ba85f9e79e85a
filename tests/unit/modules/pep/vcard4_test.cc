// vCard4 (XEP-0292) <-> vcard-temp (XEP-0054) basic fields.
#include "modules/pep/vcard4.h"

#include <gtest/gtest.h>

#include "xml/parse_element.h"
#include "xml/serializer.h"
#include "xmpp/namespaces.h"

namespace tern::modules::pep::vcard4 {
namespace {

xml::Element parse(const char* s) { return *xml::parse_element(s, ns::kClient); }

TEST(Vcard4, BasicFieldsOfVcardTempBecomeVcard4) {
  auto temp = parse(
      "<vCard xmlns='vcard-temp'><FN>Alice Liddell</FN><NICKNAME>ali</NICKNAME>"
      "<EMAIL><INTERNET/><WORK/><PREF/><USERID>alice@example.org</USERID></EMAIL>"
      "<TEL><HOME/><VOICE/><NUMBER>+1-555-0100</NUMBER></TEL><URL>https://example.org/</URL>"
      "<NOTE>hi</NOTE><BDAY>1852-05-04</BDAY><PHOTO><BINVAL>YWJj</BINVAL></PHOTO></vCard>");
  auto v4 = with_fields_of_vcard_temp(temp, std::nullopt);
  EXPECT_EQ(v4.name(), "vcard");
  EXPECT_EQ(v4.ns(), kNs);
  EXPECT_EQ(v4.child("fn", kNs)->child_text("text", kNs), "Alice Liddell");
  EXPECT_EQ(v4.child("nickname", kNs)->child_text("text", kNs), "ali");
  const auto* email = v4.child("email", kNs);
  ASSERT_TRUE(email);
  EXPECT_EQ(email->child_text("text", kNs), "alice@example.org");
  EXPECT_EQ(email->child("parameters", kNs)->child("type", kNs)->child_text("text", kNs), "work");
  EXPECT_TRUE(email->child("parameters", kNs)->child("pref", kNs));
  EXPECT_EQ(v4.child("tel", kNs)->child_text("uri", kNs), "tel:+1-555-0100");
  EXPECT_EQ(v4.child("url", kNs)->child_text("uri", kNs), "https://example.org/");
  EXPECT_EQ(v4.child("note", kNs)->child_text("text", kNs), "hi");
  EXPECT_EQ(v4.child("bday", kNs)->child_text("date", kNs), "1852-05-04");
  EXPECT_FALSE(v4.child("photo", kNs));  // not a basic field
}

TEST(Vcard4, VcardTempKeepsWhatVcard4DoesNotCarry) {
  auto v4 = parse(
      "<vcard xmlns='urn:ietf:params:xml:ns:vcard-4.0'><fn><text>Bob</text></fn>"
      "<email><parameters><type><text>home</text></type></parameters><text>bob@example.org</text></email>"
      "<tel><uri>tel:+44-20</uri></tel><bday><date>1990-01-02</date></bday><adr><locality>X</locality></adr></vcard>");
  auto old = parse("<vCard xmlns='vcard-temp'><FN>Old</FN><ORG><ORGNAME>Acme</ORGNAME></ORG>"
                   "<PHOTO><BINVAL>YWJj</BINVAL></PHOTO><NOTE>gone</NOTE></vCard>");
  auto temp = with_fields_of_vcard4(v4, old);
  EXPECT_EQ(temp.child_text("FN", "vcard-temp"), "Bob");
  EXPECT_FALSE(temp.child("NOTE", "vcard-temp"));  // vCard4 has none any more
  EXPECT_TRUE(temp.child("ORG", "vcard-temp"));
  EXPECT_TRUE(temp.child("PHOTO", "vcard-temp"));
  const auto* email = temp.child("EMAIL", "vcard-temp");
  ASSERT_TRUE(email);
  EXPECT_TRUE(email->child("HOME", "vcard-temp"));
  EXPECT_EQ(email->child_text("USERID", "vcard-temp"), "bob@example.org");
  EXPECT_EQ(temp.child("TEL", "vcard-temp")->child_text("NUMBER", "vcard-temp"), "+44-20");
  EXPECT_EQ(temp.child_text("BDAY", "vcard-temp"), "1990-01-02");
  EXPECT_FALSE(temp.child("ADR", "vcard-temp"));
}

TEST(Vcard4, RoundTripIsStable) {
  auto temp = parse("<vCard xmlns='vcard-temp'><FN>C</FN><EMAIL><INTERNET/><HOME/>"
                    "<USERID>c@example.org</USERID></EMAIL><TEL><CELL/><NUMBER>123</NUMBER></TEL></vCard>");
  auto v4 = with_fields_of_vcard_temp(temp, std::nullopt);
  auto back = with_fields_of_vcard4(v4, std::nullopt);
  EXPECT_EQ(xml::to_string(back, ""), xml::to_string(temp, ""));
  // Converting again changes nothing: no endless back-and-forth.
  EXPECT_EQ(xml::to_string(with_fields_of_vcard_temp(back, v4), ""), xml::to_string(v4, ""));
}

TEST(Vcard4, RemovedVcardTempEmptiesTheBasicFields) {
  auto v4 = parse("<vcard xmlns='urn:ietf:params:xml:ns:vcard-4.0'><fn><text>D</text></fn>"
                  "<adr><locality>Y</locality></adr></vcard>");
  auto after = with_fields_of_vcard_temp(std::nullopt, v4);
  EXPECT_FALSE(after.child("fn", kNs));
  EXPECT_TRUE(after.child("adr", kNs));
  EXPECT_TRUE(has_no_fields(parse("<vcard xmlns='urn:ietf:params:xml:ns:vcard-4.0'/>")));
}

}  // namespace
}  // namespace tern::modules::pep::vcard4
