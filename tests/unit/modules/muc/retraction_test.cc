#include "modules/muc/retraction.h"

#include <gtest/gtest.h>

#include "modules/muc/room.h"
#include "xml/parse_element.h"
#include "xml/serializer.h"
#include "xmpp/namespaces.h"

namespace tern::modules::muc {
namespace {

using xmpp::StanzaCondition;

xml::Element parse(std::string_view text) {
  auto e = xml::parse_element(text, ns::kClient);
  EXPECT_TRUE(e) << text;
  return e ? std::move(*e) : xml::Element();
}

TEST(MucRetraction, ReadsTheCurrentAndTheFasteningForm) {
  EXPECT_EQ(retracted_id(parse("<message xmlns='jabber:client' type='groupchat'>"
                               "<retract xmlns='urn:xmpp:message-retract:1' id='abc'/>"
                               "<body>fallback</body></message>")),
            "abc");
  EXPECT_EQ(retracted_id(parse("<message xmlns='jabber:client'>"
                               "<apply-to xmlns='urn:xmpp:fasten:0' id='old'>"
                               "<retract xmlns='urn:xmpp:message-retract:0'/></apply-to></message>")),
            "old");
  // Not retractions: no id, an apply-to of something else, a plain message.
  EXPECT_EQ(retracted_id(parse("<message xmlns='jabber:client'>"
                               "<retract xmlns='urn:xmpp:message-retract:1'/></message>")),
            std::nullopt);
  EXPECT_EQ(retracted_id(parse("<message xmlns='jabber:client'>"
                               "<apply-to xmlns='urn:xmpp:fasten:0' id='x'><other xmlns='y'/></apply-to>"
                               "</message>")),
            std::nullopt);
  EXPECT_EQ(retracted_id(parse("<message xmlns='jabber:client'><body>hi</body></message>")), std::nullopt);
}

TEST(MucModeration, ParsesBothVersions) {
  auto current = parse(
      "<moderate xmlns='urn:xmpp:message-moderate:1' id='sid1'>"
      "<retract xmlns='urn:xmpp:message-retract:1'/><reason>spam</reason></moderate>");
  ASSERT_TRUE(is_moderation(current));
  auto r = parse_moderation(current);
  ASSERT_TRUE(std::holds_alternative<ModerationRequest>(r));
  EXPECT_EQ(std::get<ModerationRequest>(r).id, "sid1");
  EXPECT_EQ(std::get<ModerationRequest>(r).reason, "spam");

  auto legacy = parse(
      "<apply-to xmlns='urn:xmpp:fasten:0' id='sid2'><moderate xmlns='urn:xmpp:message-moderate:0'>"
      "<retract xmlns='urn:xmpp:message-retract:0'/></moderate></apply-to>");
  ASSERT_TRUE(is_moderation(legacy));
  auto l = parse_moderation(legacy);
  ASSERT_TRUE(std::holds_alternative<ModerationRequest>(l));
  EXPECT_EQ(std::get<ModerationRequest>(l).id, "sid2");
  EXPECT_EQ(std::get<ModerationRequest>(l).reason, "");
}

TEST(MucModeration, RefusesWhatItCannotDo) {
  auto no_id = parse("<moderate xmlns='urn:xmpp:message-moderate:1'>"
                     "<retract xmlns='urn:xmpp:message-retract:1'/></moderate>");
  EXPECT_EQ(std::get<xmpp::StanzaError>(parse_moderation(no_id)).condition, StanzaCondition::kBadRequest);
  auto no_retract = parse("<moderate xmlns='urn:xmpp:message-moderate:1' id='x'/>");
  EXPECT_EQ(std::get<xmpp::StanzaError>(parse_moderation(no_retract)).condition,
            StanzaCondition::kFeatureNotImplemented);
  // The old form with the new retract namespace does not mix.
  auto mixed = parse("<apply-to xmlns='urn:xmpp:fasten:0' id='x'><moderate xmlns='urn:xmpp:message-moderate:0'>"
                     "<retract xmlns='urn:xmpp:message-retract:1'/></moderate></apply-to>");
  EXPECT_EQ(std::get<xmpp::StanzaError>(parse_moderation(mixed)).condition,
            StanzaCondition::kFeatureNotImplemented);
  EXPECT_FALSE(is_moderation(parse("<apply-to xmlns='urn:xmpp:fasten:0' id='x'/>")));
  EXPECT_FALSE(is_moderation(parse("<query xmlns='urn:xmpp:mam:2'/>")));
}

TEST(MucModeration, NoticeCarriesBothForms) {
  auto m = moderation_message("room@muc.example", ModerationRequest{"sid1", "spam"},
                              "room@muc.example/mod", "occ-mod");
  EXPECT_EQ(m.attr_or("type"), "groupchat");
  EXPECT_EQ(m.attr_or("from"), "room@muc.example");
  const auto* retract = m.child("retract", kRetractNs);
  ASSERT_TRUE(retract);
  EXPECT_EQ(retract->attr_or("id"), "sid1");
  const auto* moderated = retract->child("moderated", kModerateNs);
  ASSERT_TRUE(moderated);
  EXPECT_EQ(moderated->attr_or("by"), "room@muc.example/mod");
  ASSERT_TRUE(moderated->child("occupant-id", kOccupantIdNs));
  EXPECT_EQ(retract->child_text("reason"), "spam");
  const auto* apply = m.child("apply-to", kFastenNs);
  ASSERT_TRUE(apply);
  EXPECT_EQ(apply->attr_or("id"), "sid1");
  const auto* legacy = apply->child("moderated", kModerateLegacyNs);
  ASSERT_TRUE(legacy);
  EXPECT_TRUE(legacy->child("retract", kRetractLegacyNs));
}

TEST(MucTombstone, KeepsIdsAndDropsWhatWasSaid) {
  auto original = parse(
      "<message xmlns='jabber:client' type='groupchat' from='room@muc.example/alice' id='m1'>"
      "<body>secret</body><html xmlns='http://jabber.org/protocol/xhtml-im'/>"
      "<origin-id xmlns='urn:xmpp:sid:0' id='o1'/>"
      "<occupant-id xmlns='urn:xmpp:occupant-id:0' id='occ'/>"
      "<stanza-id xmlns='urn:xmpp:sid:0' by='room@muc.example' id='s1'/></message>");
  auto t = tombstone(original, retracted_by_sender("2026-01-01T00:00:00Z", "r1"));
  EXPECT_EQ(t.attr_or("from"), "room@muc.example/alice");
  EXPECT_EQ(t.attr_or("id"), "m1");
  EXPECT_FALSE(t.child("body"));
  EXPECT_FALSE(t.child("html", "http://jabber.org/protocol/xhtml-im"));
  EXPECT_TRUE(t.child("origin-id", "urn:xmpp:sid:0"));
  EXPECT_TRUE(t.child("stanza-id", "urn:xmpp:sid:0"));
  EXPECT_TRUE(t.child("occupant-id", kOccupantIdNs));
  const auto* r = t.child("retracted", kRetractNs);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->attr_or("id"), "r1");
  EXPECT_EQ(xml::to_string(t, ns::kClient).find("secret"), std::string::npos);

  auto by_mod = retracted_by_moderator("2026-01-01T00:00:00Z", "room@muc.example/mod", "occ-mod", "rude");
  ASSERT_TRUE(by_mod.child("moderated", kModerateNs));
  EXPECT_EQ(by_mod.child("moderated", kModerateNs)->attr_or("by"), "room@muc.example/mod");
  EXPECT_EQ(by_mod.child_text("reason"), "rude");
}

}  // namespace
}  // namespace tern::modules::muc
