// The roster's XEP-0227 section: what it reads from <query
// xmlns='jabber:iq:roster'/>, how it stores it, and what it writes back.
#include <gtest/gtest.h>

#include "modules/roster/item.h"
#include "portable/section_harness.h"

namespace tern::modules::roster {
namespace {

using portable::SectionTally;
using portable::testing::SectionHarness;

constexpr std::string_view kRoster = R"(<query xmlns='jabber:iq:roster'>
  <item jid='Romeo@Montague.lit' name='Romeo' subscription='both'>
    <group>Friends</group><group>Lovers</group><group>Friends</group><group/>
  </item>
  <item jid='tybalt@capulet.lit' subscription='none' ask='subscribe' approved='true'/>
  <item jid='romeo@montague.lit' name='Again' subscription='none'/>
  <item jid='not a jid@@' subscription='both'/>
  <item jid='nurse@capulet.lit/kitchen' subscription='both'/>
  <item jid='paris@verona.lit' subscription='remove'/>
  <item jid='friar@verona.lit' subscription='sometimes'/>
</query>)";

TEST(RosterSection, IsRegisteredForTheRosterQuery) {
  SectionHarness h("roster");
  EXPECT_EQ(h.section().element, "query");
  EXPECT_EQ(h.section().ns, kNs);
  EXPECT_EQ(portable::builtin_sections().find("query", kNs), &h.section());
}

TEST(RosterSection, NormalisesJidsDropsDuplicatesAndNamesWhatItSkips) {
  SectionHarness h("roster");
  auto read = h.read(kRoster);
  EXPECT_EQ(read.warnings,
            (std::vector<std::string>{
                "roster item romeo@montague.lit listed twice; the first one counts",
                "roster item with a bad jid 'not a jid@@'",
                "roster item with a bad jid 'nurse@capulet.lit/kitchen'",
                "roster item friar@verona.lit: subscription 'sometimes' read as 'none'"}));
  EXPECT_EQ(h.store(*read.data, true), (SectionTally{.added = 3}));

  auto items = h.storage().roster().items(h.owner);
  ASSERT_EQ(items.size(), 3u);
  auto romeo = h.storage().roster().item(h.owner, "romeo@montague.lit");
  ASSERT_TRUE(romeo);
  EXPECT_EQ(romeo->name, "Romeo");
  EXPECT_EQ(romeo->subscription, "both");
  EXPECT_EQ(romeo->groups, (std::vector<std::string>{"Friends", "Lovers"}));
  auto tybalt = h.storage().roster().item(h.owner, "tybalt@capulet.lit");
  ASSERT_TRUE(tybalt);
  EXPECT_TRUE(tybalt->ask_out);
  EXPECT_TRUE(tybalt->approved);
  EXPECT_EQ(h.storage().roster().item(h.owner, "friar@verona.lit")->subscription, "none");
  EXPECT_FALSE(h.storage().roster().item(h.owner, "paris@verona.lit"));
  EXPECT_GT(h.storage().roster().version(h.owner), 0);
}

TEST(RosterSection, StoringAgainChangesNothingAndKeepsWhatTheFileDoesNotSay) {
  SectionHarness h("roster");
  h.store(kRoster);
  // An inbound request arrived meanwhile; the file knows nothing of it.
  auto romeo = *h.storage().roster().item(h.owner, "romeo@montague.lit");
  romeo.pending_in = true;
  romeo.pending_in_stanza = "<presence type='subscribe'/>";
  h.storage().roster().put(h.owner, romeo);
  const auto version = h.storage().roster().version(h.owner);

  EXPECT_EQ(h.store(kRoster), (SectionTally{.unchanged = 3}));
  EXPECT_EQ(h.storage().roster().version(h.owner), version);

  std::string renamed(kRoster);
  renamed.replace(renamed.find("name='Romeo'"), 12, "name='Romy'");
  EXPECT_EQ(h.store(renamed), (SectionTally{.changed = 1, .unchanged = 2}));
  auto after = *h.storage().roster().item(h.owner, "romeo@montague.lit");
  EXPECT_EQ(after.name, "Romy");
  EXPECT_TRUE(after.pending_in);
  EXPECT_EQ(after.pending_in_stanza, "<presence type='subscribe'/>");
  EXPECT_GT(h.storage().roster().version(h.owner), version);
}

TEST(RosterSection, WritesWhatItReadAndNotTheItemsTheUserHasNotSeen) {
  SectionHarness h("roster");
  EXPECT_EQ(h.write().text, "");  // no roster: no element
  h.store(kRoster);
  storage::RosterItem hidden;  // an inbound request alone
  hidden.jid = "stranger@verona.lit";
  hidden.pending_in = true;
  h.storage().roster().put(h.owner, hidden);

  auto written = h.write();
  EXPECT_EQ(written.items, 4u);  // every stored item is counted, as before
  EXPECT_EQ(written.text.find("stranger"), std::string::npos) << written.text;
  EXPECT_TRUE(written.text.starts_with("<query xmlns='jabber:iq:roster'><item ")) << written.text;

  // The round trip: what was written reads back as what is stored.
  SectionHarness copy("roster");
  auto read = copy.read(written.text);
  EXPECT_TRUE(read.warnings.empty());
  EXPECT_EQ(copy.store(*read.data, true), (SectionTally{.added = 3}));
  auto a = h.storage().roster().items(h.owner);
  auto b = copy.storage().roster().items(copy.owner);
  ASSERT_EQ(b.size(), 3u);
  for (const auto& item : b) {
    auto it = std::find_if(a.begin(), a.end(), [&](const auto& x) { return x.jid == item.jid; });
    ASSERT_NE(it, a.end());
    EXPECT_EQ(it->name, item.name);
    EXPECT_EQ(it->subscription, item.subscription);
    EXPECT_EQ(it->ask_out, item.ask_out);
    EXPECT_EQ(it->approved, item.approved);
    EXPECT_EQ(it->groups, item.groups);
  }
  EXPECT_EQ(copy.write().text, h.write().text);
}

}  // namespace
}  // namespace tern::modules::roster
