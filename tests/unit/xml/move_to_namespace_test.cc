#include "xml/element.h"

#include <gtest/gtest.h>

#include "xml/parse_element.h"
#include "xml/serializer.h"
#include "xmpp/namespaces.h"

namespace tern::xml {
namespace {

constexpr std::string_view kAccept = "jabber:component:accept";

// A component's stanza, parsed as its stream would: the default namespace
// is jabber:component:accept, payloads keep theirs.
Element component_stanza(std::string_view text) {
  auto el = parse_element(text, ns::kClient);
  EXPECT_TRUE(el.has_value()) << text;
  return *el;
}

TEST(MoveToNamespace, MovesTheStanzaAndWhatInheritedItsNamespace) {
  auto el = component_stanza(
      "<message xmlns='jabber:component:accept' to='a@x' from='bot@echo.x'>"
      "<body>hi</body><thread>t</thread>"
      "<x xmlns='jabber:x:oob'><url>u</url></x></message>");
  move_to_namespace(el, kAccept, "jabber:client");
  EXPECT_EQ(el.ns(), "jabber:client");
  ASSERT_NE(el.child("body", "jabber:client"), nullptr);
  ASSERT_NE(el.child("thread", "jabber:client"), nullptr);
  const auto* oob = el.child("x", "jabber:x:oob");
  ASSERT_NE(oob, nullptr);
  ASSERT_NE(oob->child("url", "jabber:x:oob"), nullptr);
  // For a client stream the stanza needs no namespace declaration at all.
  std::string out;
  serialize(out, el, "jabber:client");
  EXPECT_EQ(out.find("jabber:component:accept"), std::string::npos) << out;
  EXPECT_NE(out.find("<x xmlns='jabber:x:oob'>"), std::string::npos) << out;
}

TEST(MoveToNamespace, LeavesOtherNamespacesAlone) {
  auto el = component_stanza("<iq xmlns='jabber:client' type='get'><ping xmlns='urn:xmpp:ping'/></iq>");
  move_to_namespace(el, kAccept, "jabber:client");
  EXPECT_EQ(el.ns(), "jabber:client");
  EXPECT_NE(el.child("ping", "urn:xmpp:ping"), nullptr);
}

TEST(MoveToNamespace, StopsAtAForeignNamespace) {
  auto el = component_stanza(
      "<message xmlns='jabber:server'><forwarded xmlns='urn:xmpp:forward:0'>"
      "<message xmlns='jabber:server'/></forwarded></message>");
  move_to_namespace(el, "jabber:server", "jabber:client");
  EXPECT_EQ(el.ns(), "jabber:client");
  const auto* inner = el.child("forwarded", "urn:xmpp:forward:0")->child("message");
  ASSERT_NE(inner, nullptr);
  EXPECT_EQ(inner->ns(), "jabber:server");
}

}  // namespace
}  // namespace tern::xml
