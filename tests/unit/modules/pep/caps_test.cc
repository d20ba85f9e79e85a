// Entity capabilities (XEP-0115): the verification string and hash of the
// XEP's own examples, the cache, and who an account hears.
#include "modules/pep/caps.h"

#include <gtest/gtest.h>

#include "xml/parse_element.h"
#include "xmpp/namespaces.h"

namespace tern::modules::pep {
namespace {

TEST(Caps, SimpleExampleOfSection52) {
  auto q = xml::parse_element(
      "<query xmlns='http://jabber.org/protocol/disco#info'>"
      "<identity category='client' name='Exodus 0.9.1' type='pc'/>"
      "<feature var='http://jabber.org/protocol/disco#info'/>"
      "<feature var='http://jabber.org/protocol/caps'/>"
      "<feature var='http://jabber.org/protocol/muc'/>"
      "<feature var='http://jabber.org/protocol/disco#items'/></query>", ns::kClient);
  ASSERT_TRUE(q);
  const auto s = verification_string(*q);
  EXPECT_EQ(s, "client/pc//Exodus 0.9.1<http://jabber.org/protocol/caps<"
               "http://jabber.org/protocol/disco#info<http://jabber.org/protocol/disco#items<"
               "http://jabber.org/protocol/muc<");
  EXPECT_EQ(caps_hash("sha-1", s), "QgayPKawpkPSDYmwT/WM94uAlu0=");
  EXPECT_FALSE(caps_hash("md5", s).has_value());
}

TEST(Caps, ComplexExampleOfSection53WithExtendedForm) {
  auto q = xml::parse_element(
      "<query xmlns='http://jabber.org/protocol/disco#info' node='http://psi-im.org#q07IKJEyjvHSyhy//CH0CxmKi8w='>"
      "<identity xml:lang='en' category='client' name='Psi 0.11' type='pc'/>"
      "<identity xml:lang='el' category='client' name='\xce\xa8 0.11' type='pc'/>"
      "<feature var='http://jabber.org/protocol/caps'/>"
      "<feature var='http://jabber.org/protocol/disco#info'/>"
      "<feature var='http://jabber.org/protocol/disco#items'/>"
      "<feature var='http://jabber.org/protocol/muc'/>"
      "<x xmlns='jabber:x:data' type='result'>"
      "<field var='FORM_TYPE' type='hidden'><value>urn:xmpp:dataforms:softwareinfo</value></field>"
      "<field var='ip_version'><value>ipv4</value><value>ipv6</value></field>"
      "<field var='os'><value>Mac</value></field>"
      "<field var='os_version'><value>10.5.1</value></field>"
      "<field var='software'><value>Psi</value></field>"
      "<field var='software_version'><value>0.11</value></field></x></query>", ns::kClient);
  ASSERT_TRUE(q);
  EXPECT_EQ(caps_hash("sha-1", verification_string(*q)), "q07IKJEyjvHSyhy//CH0CxmKi8w=");
}

TEST(Caps, CapsOfAPresence) {
  auto p = xml::parse_element(
      "<presence xmlns='jabber:client'><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' "
      "node='https://gajim.org' ver='abc='/></presence>", ns::kClient);
  auto c = caps_of(*p);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->key(), "abc=");
  auto legacy = xml::parse_element(
      "<presence xmlns='jabber:client'><c xmlns='http://jabber.org/protocol/caps' node='n' ver='1.0'/></presence>", ns::kClient);
  EXPECT_EQ(caps_of(*legacy)->key(), "n#1.0");
  EXPECT_FALSE(caps_of(*xml::parse_element("<presence xmlns='jabber:client'/>", ns::kClient)));
}

TEST(Caps, CacheAsksOncePerKeyAndHandsBackWhoWaited) {
  CapsCache cache;
  EXPECT_EQ(cache.find("v"), nullptr);
  EXPECT_TRUE(cache.wait_for("v", "alice@x", "bob@y/1"));
  EXPECT_FALSE(cache.wait_for("v", "carol@x", "bob@y/1"));
  cache.put("v", {"urn:xmpp:avatar:metadata+notify"});
  ASSERT_NE(cache.find("v"), nullptr);
  EXPECT_EQ(cache.find("v")->count("urn:xmpp:avatar:metadata+notify"), 1u);
  auto waited = cache.end_wait("v");
  EXPECT_EQ(waited.size(), 2u);
  EXPECT_TRUE(cache.end_wait("v").empty());
}

TEST(Caps, ListenersAreNewOnceAndOnCapsChange) {
  Listeners l;
  EXPECT_TRUE(l.available("alice@x", "bob@y/1", "v1"));
  EXPECT_FALSE(l.available("alice@x", "bob@y/1", "v1"));
  EXPECT_TRUE(l.available("alice@x", "bob@y/1", "v2"));
  EXPECT_TRUE(l.available("carol@x", "bob@y/1", "v2"));
  EXPECT_EQ(l.of("alice@x").size(), 1u);
  EXPECT_EQ(l.caps_key("alice@x", "bob@y/1"), "v2");
  l.unavailable("alice@x", "bob@y/1");
  EXPECT_TRUE(l.of("alice@x").empty());
  EXPECT_EQ(l.of("carol@x").size(), 1u);
  l.forget("carol@x");
  EXPECT_TRUE(l.of("carol@x").empty());
}

}  // namespace
}  // namespace tern::modules::pep
