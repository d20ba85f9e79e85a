#include "xml/element.h"

#include <gtest/gtest.h>

namespace tern::xml {
namespace {

Element sample() {
  Element msg("message", "jabber:client");
  msg.set_attr("to", "juliet@example.com").set_attr("type", "chat");
  msg.add_child("body").add_text("hi");
  msg.add_child("active", "http://jabber.org/protocol/chatstates");
  return msg;
}

TEST(ElementTest, CopyIsDeep) {
  Element a = sample();
  Element b = a;
  EXPECT_TRUE(a == b);
  ASSERT_NE(b.child("body"), nullptr);
  EXPECT_NE(a.child("body"), b.child("body"));
  b.child("body")->add_text(" there");
  b.set_attr("to", "romeo@example.net");
  EXPECT_EQ(a.child_text("body"), "hi");
  EXPECT_EQ(b.child_text("body"), "hi there");
  EXPECT_EQ(a.attr_or("to"), "juliet@example.com");
  EXPECT_FALSE(a == b);
}

TEST(ElementTest, CopyAssignFromOwnDescendant) {
  Element a("a", "urn:x");
  a.add_child("b").add_child("c").add_text("deep");
  const Element* b = a.child("b");
  a = *b;
  EXPECT_EQ(a.name(), "b");
  ASSERT_NE(a.child("c"), nullptr);
  EXPECT_EQ(a.child("c")->text(), "deep");
}

TEST(ElementTest, AddTextMergesWithPrecedingText) {
  Element e("body", "jabber:client");
  e.add_text("a");
  e.add_text("");
  e.add_text("b");
  ASSERT_EQ(e.nodes().size(), 1u);
  EXPECT_EQ(e.nodes()[0].text, "ab");
  e.add_child("x");
  e.add_text("c");
  ASSERT_EQ(e.nodes().size(), 3u);
  EXPECT_TRUE(e.nodes()[2].is_text());
  EXPECT_EQ(e.text(), "abc");
}

TEST(ElementTest, RemoveChildJoinsTheTextAroundIt) {
  Element e("body", "jabber:client");
  e.add_text("a");
  e.add_child("br");
  e.add_text("b");
  EXPECT_TRUE(e.remove_child("br"));
  ASSERT_EQ(e.nodes().size(), 1u);
  EXPECT_EQ(e.nodes()[0].text, "ab");
  EXPECT_FALSE(e.remove_child("br"));
}

TEST(ElementTest, ChildLookupByNameAndNamespace) {
  Element iq("iq", "jabber:client");
  iq.add_child("query", "jabber:iq:version");
  iq.add_child("query", "jabber:iq:roster").add_child("item").set_attr("jid", "a@b");
  EXPECT_EQ(iq.child("query")->ns(), "jabber:iq:version");  // empty ns: any
  ASSERT_NE(iq.child("query", "jabber:iq:roster"), nullptr);
  EXPECT_EQ(iq.child("query", "jabber:iq:roster")->child("item")->ns(), "jabber:iq:roster");
  EXPECT_EQ(iq.child("query", "urn:none"), nullptr);
  EXPECT_EQ(iq.child_by_ns("jabber:iq:roster"), iq.child("query", "jabber:iq:roster"));
  EXPECT_EQ(iq.child_by_ns("urn:none"), nullptr);
  EXPECT_EQ(iq.children().size(), 2u);
  EXPECT_TRUE(iq.remove_child("query", "jabber:iq:roster"));
  EXPECT_EQ(iq.children().size(), 1u);
  EXPECT_EQ(iq.child("query", "jabber:iq:roster"), nullptr);
}

TEST(ElementTest, AddChildWithoutNamespaceInheritsOurs) {
  Element e("message", "jabber:client");
  EXPECT_EQ(e.add_child("body").ns(), "jabber:client");
  EXPECT_EQ(e.add_child("x", "urn:y").ns(), "urn:y");
  EXPECT_EQ(e.add_child(Element("z", "")).ns(), "");  // a built element keeps its own
}

TEST(ElementTest, Attributes) {
  Element e("presence", "jabber:client");
  EXPECT_EQ(e.attr("type"), std::nullopt);
  EXPECT_EQ(e.attr_or("type", "available"), "available");
  e.set_attr("type", "away").set_attr("xml:lang", "en");
  e.set_attr("type", "unavailable");
  ASSERT_EQ(e.attributes().size(), 2u);
  EXPECT_EQ(e.attributes()[0].name, "type");
  EXPECT_EQ(*e.attr("type"), "unavailable");
  EXPECT_EQ(*e.attr("xml:lang"), "en");
  e.remove_attr("type");
  EXPECT_EQ(e.attr("type"), std::nullopt);
  EXPECT_EQ(e.attributes().size(), 1u);
}

TEST(ElementTest, ChildTextOfMissingChildIsEmpty) {
  Element e = sample();
  EXPECT_EQ(e.child_text("body", "jabber:client"), "hi");
  EXPECT_EQ(e.child_text("subject"), "");
  EXPECT_EQ(e.text(), "");
}

TEST(ElementTest, EqualityLooksAtEverything) {
  Element a = sample();
  Element b = sample();
  EXPECT_TRUE(a == b);
  b.set_ns("jabber:server");
  EXPECT_FALSE(a == b);
  b = sample();
  b.child("active")->set_name("paused");
  EXPECT_FALSE(a == b);
  b = sample();
  b.child("body")->add_text("!");
  EXPECT_FALSE(a == b);
  b = sample();
  b.add_text("x");
  EXPECT_FALSE(a == b);
}

TEST(ElementTest, MoveLeavesChildrenAddressesStable) {
  Element a = sample();
  const Element* body = a.child("body");
  Element b = std::move(a);
  EXPECT_EQ(b.child("body"), body);
}

TEST(ElementTest, BlankMeansNoAttributesChildrenOrText) {
  EXPECT_TRUE(is_blank(Element("vCard", "vcard-temp")));
  Element spaces("vCard", "vcard-temp");
  spaces.add_text("\n  \t");
  EXPECT_TRUE(is_blank(spaces));
  Element with_text = spaces;
  with_text.add_text("x");
  EXPECT_FALSE(is_blank(with_text));
  Element with_child("storage", "storage:bookmarks");
  with_child.add_child("conference");
  EXPECT_FALSE(is_blank(with_child));
  Element with_attr("vCard", "vcard-temp");
  with_attr.set_attr("version", "3.0");
  EXPECT_FALSE(is_blank(with_attr));
}

}  // namespace
}  // namespace tern::xml
