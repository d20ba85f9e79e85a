#include <gtest/gtest.h>

#include "modules/mam/policy.h"
#include "modules/mam/query.h"
#include "xml/parse_element.h"
#include "xml/serializer.h"
#include "xmpp/namespaces.h"

namespace tern::modules::mam {
namespace {

bool archivable(std::string_view text) {
  auto e = xml::parse_element(text, ns::kClient);
  EXPECT_TRUE(e) << text;
  return e && is_archivable(*e);
}

TEST(MamPolicy, ChatAndNormalWithABody) {
  EXPECT_TRUE(archivable("<message xmlns='jabber:client' type='chat'><body>hi</body></message>"));
  EXPECT_TRUE(archivable("<message xmlns='jabber:client'><body>hi</body></message>"));
  EXPECT_TRUE(archivable("<message xmlns='jabber:client' type='chat'><encrypted xmlns='eu.siacs.conversations.axolotl'/></message>"));
  EXPECT_FALSE(archivable("<message xmlns='jabber:client' type='chat'><active xmlns='http://jabber.org/protocol/chatstates'/></message>"));
  EXPECT_FALSE(archivable("<message xmlns='jabber:client' type='error'><body>x</body></message>"));
  EXPECT_FALSE(archivable("<message xmlns='jabber:client' type='groupchat'><body>x</body></message>"));
  EXPECT_FALSE(archivable("<message xmlns='jabber:client' type='headline'><body>x</body></message>"));
  EXPECT_FALSE(archivable("<presence xmlns='jabber:client'/>"));
}

TEST(MamPolicy, Xep0334Hints) {
  EXPECT_FALSE(archivable("<message xmlns='jabber:client' type='chat'><body>x</body><no-store xmlns='urn:xmpp:hints'/></message>"));
  EXPECT_FALSE(archivable("<message xmlns='jabber:client' type='chat'><body>x</body><no-permanent-store xmlns='urn:xmpp:hints'/></message>"));
  EXPECT_TRUE(archivable("<message xmlns='jabber:client' type='chat'><store xmlns='urn:xmpp:hints'/></message>"));
  EXPECT_TRUE(archivable("<message xmlns='jabber:client' type='headline'><body>x</body><store xmlns='urn:xmpp:hints'/></message>"));
  EXPECT_FALSE(archivable("<message xmlns='jabber:client' type='error'><store xmlns='urn:xmpp:hints'/></message>"));
  EXPECT_FALSE(archivable("<message xmlns='jabber:client' type='chat'><body>x</body><store xmlns='urn:xmpp:hints'/><no-store xmlns='urn:xmpp:hints'/></message>"));
}

TEST(MamPolicy, NeverWinsOverAlwaysWhichWinsOverTheDefault) {
  storage::ArchivePrefs p{"roster", {"romeo@montague.lit", "nurse@capulet.lit/room"}, {"tybalt@capulet.lit"}};
  auto jid = [](const char* s) { return *xmpp::Jid::parse(s); };
  EXPECT_EQ(decide(p, jid("romeo@montague.lit/orchard")), Decision::kArchive);
  EXPECT_EQ(decide(p, jid("nurse@capulet.lit/room")), Decision::kArchive);
  EXPECT_EQ(decide(p, jid("nurse@capulet.lit/other")), Decision::kIfInRoster);
  EXPECT_EQ(decide(p, jid("tybalt@capulet.lit/x")), Decision::kSkip);
  p.always.push_back("tybalt@capulet.lit");
  EXPECT_EQ(decide(p, jid("tybalt@capulet.lit")), Decision::kSkip);
  EXPECT_EQ(decide({"always", {}, {}}, jid("a@b")), Decision::kArchive);
  EXPECT_EQ(decide({"never", {}, {}}, jid("a@b")), Decision::kSkip);
}

TEST(MamPolicy, PrefsRoundTrip) {
  auto el = xml::parse_element(
      "<prefs xmlns='urn:xmpp:mam:2' default='roster'><always><jid>Romeo@Montague.lit</jid>"
      "<jid>both@x</jid></always><never><jid>both@x</jid><jid>tybalt@capulet.lit</jid></never></prefs>", ns::kClient);
  auto parsed = parse_prefs(*el);
  ASSERT_TRUE(std::holds_alternative<storage::ArchivePrefs>(parsed));
  auto prefs = std::get<storage::ArchivePrefs>(parsed);
  EXPECT_EQ(prefs, (storage::ArchivePrefs{"roster", {"romeo@montague.lit"}, {"both@x", "tybalt@capulet.lit"}}));
  auto again = parse_prefs(prefs_element(prefs));
  EXPECT_EQ(std::get<storage::ArchivePrefs>(again), prefs);
}

TEST(MamPolicy, BadPrefsAreBadRequest) {
  for (std::string_view bad : {"<prefs xmlns='urn:xmpp:mam:2'/>",
                               "<prefs xmlns='urn:xmpp:mam:2' default='sometimes'/>",
                               "<prefs xmlns='urn:xmpp:mam:2' default='always'><never><jid>@</jid></never></prefs>"}) {
    auto parsed = parse_prefs(*xml::parse_element(bad, ns::kClient));
    ASSERT_TRUE(std::holds_alternative<xmpp::StanzaError>(parsed)) << bad;
    EXPECT_EQ(std::get<xmpp::StanzaError>(parsed).condition, xmpp::StanzaCondition::kBadRequest);
  }
}

TEST(MamPolicy, StanzaIdsByAnAccountAreReplaced) {
  auto m = xml::parse_element(
      "<message xmlns='jabber:client'><body>x</body>"
      "<stanza-id xmlns='urn:xmpp:sid:0' by='juliet@capulet.lit' id='forged'/>"
      "<stanza-id xmlns='urn:xmpp:sid:0' by='room@muc.lit' id='kept'/>"
      "<origin-id xmlns='urn:xmpp:sid:0' id='o1'/></message>", ns::kClient);
  remove_stanza_ids(*m, "juliet@capulet.lit");
  add_stanza_id(*m, "juliet@capulet.lit", "real");
  EXPECT_EQ(xml::to_string(*m, ns::kClient),
            "<message><body>x</body>"
            "<stanza-id xmlns='urn:xmpp:sid:0' by='room@muc.lit' id='kept'/>"
            "<origin-id xmlns='urn:xmpp:sid:0' id='o1'/>"
            "<stanza-id xmlns='urn:xmpp:sid:0' by='juliet@capulet.lit' id='real'/></message>");
}

}  // namespace
}  // namespace tern::modules::mam
