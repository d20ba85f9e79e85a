#include "xml/serializer.h"

#include <gtest/gtest.h>

#include "xmpp/namespaces.h"

namespace tern::xml {
namespace {

TEST(SerializerTest, EscapesText) {
  std::string out;
  append_escaped_text(out, "a & b < c > d 'e' \"f\"\r");
  EXPECT_EQ(out, "a &amp; b &lt; c &gt; d 'e' \"f\"&#13;");
}

TEST(SerializerTest, EscapesAttributeValues) {
  std::string out;
  append_escaped_attr(out, "a&b<c>d'e\"f\tg\nh");
  EXPECT_EQ(out, "a&amp;b&lt;c&gt;d&apos;e&quot;f&#9;g&#10;h");
}

TEST(SerializerTest, PlainUtf8PassesThrough) {
  Element body("body", ns::kClient);
  body.add_text("caf\xc3\xa9 \xf0\x9f\x98\x80");
  EXPECT_EQ(to_string(body, ns::kClient), "<body>caf\xc3\xa9 \xf0\x9f\x98\x80</body>");
}

TEST(SerializerTest, EmptyElementIsSelfClosing) {
  Element e("presence", ns::kClient);
  EXPECT_EQ(to_string(e, ns::kClient), "<presence/>");
  e.set_attr("type", "unavailable");
  EXPECT_EQ(to_string(e, ns::kClient), "<presence type='unavailable'/>");
}

TEST(SerializerTest, StanzaWithPayloads) {
  Element msg("message", ns::kClient);
  msg.set_attr("to", "juliet@example.com").set_attr("xml:lang", "en").set_attr("id", "a'1");
  msg.add_child("body").add_text("<3 & more");
  msg.add_child("active", "http://jabber.org/protocol/chatstates");
  EXPECT_EQ(to_string(msg, ns::kClient),
            "<message to='juliet@example.com' xml:lang='en' id='a&apos;1'>"
            "<body>&lt;3 &amp; more</body>"
            "<active xmlns='http://jabber.org/protocol/chatstates'/></message>");
}

TEST(SerializerTest, XmlnsOnlyWhereTheNamespaceChanges) {
  Element iq("iq", ns::kClient);
  iq.set_attr("type", "result");
  Element& query = iq.add_child("query", "jabber:iq:roster");
  query.add_child("item").set_attr("jid", "a@b");
  query.add_child("x", ns::kClient);  // back to the stanza namespace
  EXPECT_EQ(to_string(iq, ns::kClient),
            "<iq type='result'><query xmlns='jabber:iq:roster'><item jid='a@b'/>"
            "<x xmlns='jabber:client'/></query></iq>");
}

TEST(SerializerTest, StanzaTakesTheStreamNamespace) {
  Element msg("message", ns::kClient);
  msg.add_child("body").add_text("x");
  EXPECT_EQ(to_string(msg, ns::kServer), "<message><body>x</body></message>");
  Element s2s("message", ns::kServer);
  s2s.add_child("body").add_text("x");
  EXPECT_EQ(to_string(s2s, ns::kClient), "<message><body>x</body></message>");
}

TEST(SerializerTest, NestedJabberClientKeepsItsXmlnsOnS2s) {
  // A carbon or a forwarded message carries a jabber:client stanza inside a
  // payload; that one must stay jabber:client on any stream.
  Element msg("message", ns::kClient);
  Element& fwd = msg.add_child("forwarded", "urn:xmpp:forward:0");
  fwd.add_child("message", ns::kClient).add_child("body").add_text("inner");
  EXPECT_EQ(to_string(msg, ns::kServer),
            "<message><forwarded xmlns='urn:xmpp:forward:0'>"
            "<message xmlns='jabber:client'><body>inner</body></message>"
            "</forwarded></message>");
}

TEST(SerializerTest, ChildInTheWireNamespaceNeedsNoXmlns) {
  Element msg("message", ns::kClient);
  msg.add_child("x", ns::kServer);
  EXPECT_EQ(to_string(msg, ns::kServer), "<message><x/></message>");
}

TEST(SerializerTest, NonStanzaTopLevelGetsXmlns) {
  Element starttls("starttls", ns::kTls);
  EXPECT_EQ(to_string(starttls, ns::kClient), "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
  Element in_other("message", ns::kClient);
  EXPECT_EQ(to_string(in_other, "jabber:component:accept"), "<message xmlns='jabber:client'/>");
  EXPECT_EQ(to_string(in_other, ""), "<message xmlns='jabber:client'/>");
}

TEST(SerializerTest, StreamFeaturesUseThePrefix) {
  Element features("features", ns::kStreams);
  features.add_child("starttls", ns::kTls).add_child("required");
  features.add_child("mechanisms", ns::kSasl).add_child("mechanism").add_text("PLAIN");
  features.add_child("ver", ns::kClient);  // inherits the stream's default
  EXPECT_EQ(to_string(features, ns::kClient),
            "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/>"
            "</starttls><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
            "<mechanism>PLAIN</mechanism></mechanisms><ver/></stream:features>");
}

TEST(SerializerTest, StreamError) {
  Element error("error", ns::kStreams);
  error.add_child("not-well-formed", ns::kStreamErrors);
  error.add_child("text", ns::kStreamErrors).set_attr("xml:lang", "en").add_text("bad");
  EXPECT_EQ(to_string(error, ns::kServer),
            "<stream:error><not-well-formed xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
            "<text xmlns='urn:ietf:params:xml:ns:xmpp-streams' xml:lang='en'>bad</text>"
            "</stream:error>");
}

TEST(SerializerTest, EmptyNamespace) {
  Element top("message", "");  // builders may leave the stanza namespace out
  top.add_child(Element("x", ""));
  EXPECT_EQ(to_string(top, ns::kClient), "<message><x/></message>");
  Element iq("iq", ns::kClient);
  iq.add_child(Element("bare", ""));  // a child in no namespace must say so
  EXPECT_EQ(to_string(iq, ns::kClient), "<iq><bare xmlns=''/></iq>");
}

TEST(SerializerTest, NamespacedAttributesGetAPrefix) {
  Element e("x", "urn:a");
  e.set_attr("{urn:attr}flag", "1").set_attr("{urn:other}k", "v").set_attr("plain", "p");
  e.set_attr("{http://www.w3.org/XML/1998/namespace}space", "preserve");
  e.set_attr("{}bare", "b");
  EXPECT_EQ(to_string(e, "urn:a"),
            "<x xmlns:a0='urn:attr' a0:flag='1' xmlns:a1='urn:other' a1:k='v' plain='p'"
            " xml:space='preserve' bare='b'/>");
}

TEST(SerializerTest, StrayXmlnsAttributesAreNotWritten) {
  Element e("query", "jabber:iq:roster");
  e.set_attr("xmlns", "urn:wrong").set_attr("xmlns:p", "urn:p").set_attr("ver", "1");
  EXPECT_EQ(to_string(e, ns::kClient), "<query xmlns='jabber:iq:roster' ver='1'/>");
}

TEST(SerializerTest, SerializeAppends) {
  std::string out = "<stream:stream>";
  serialize(out, Element("presence", ns::kClient), ns::kClient);
  EXPECT_EQ(out, "<stream:stream><presence/>");
}

TEST(SerializerTest, MixedContentKeepsOrder) {
  Element p("p", "urn:x");
  p.add_text("a");
  p.add_child("b").add_text("b");
  p.add_text("c");
  EXPECT_EQ(to_string(p, "urn:x"), "<p>a<b>b</b>c</p>");
}

}  // namespace
}  // namespace tern::xml
