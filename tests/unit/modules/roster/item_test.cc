// Roster set validation (RFC 6121 §2.3.3) and items on the wire (§2.1.2).
#include "modules/roster/item.h"

#include <gtest/gtest.h>

#include <string>

#include "router/router_harness.h"
#include "xml/serializer.h"
#include "xmpp/namespaces.h"

namespace tern::modules::roster {
namespace {

using xmpp::StanzaCondition;

xml::Element query(const std::string& items) {
  auto iq = router::fakes::parse_stanza("<iq type='set' id='s'><query xmlns='jabber:iq:roster'>" + items +
                                        "</query></iq>");
  return *iq.child("query", kNs);
}

std::string error_of(const std::string& items, std::size_t max = kMaxTextBytes) {
  auto r = parse_roster_set(query(items), max);
  if (auto* e = std::get_if<xmpp::StanzaError>(&r)) return xmpp::condition_name(e->condition);
  return "ok";
}

RosterSet ok(const std::string& items) {
  auto r = parse_roster_set(query(items));
  EXPECT_TRUE(std::holds_alternative<RosterSet>(r)) << items;
  return std::holds_alternative<RosterSet>(r) ? std::get<RosterSet>(r) : RosterSet{};
}

TEST(RosterSet, AcceptsOneItemWithNameAndGroups) {
  auto s = ok("<item jid='Juliet@Example.com' name='Juliet'><group>Friends</group><group>Lovers</group></item>");
  EXPECT_EQ(s.jid, "juliet@example.com");  // normalised
  EXPECT_EQ(s.name, "Juliet");
  EXPECT_EQ(s.groups, (std::vector<std::string>{"Friends", "Lovers"}));
  EXPECT_FALSE(s.remove);
}

TEST(RosterSet, MoreThanOneItemIsBadRequest) {
  EXPECT_EQ(error_of("<item jid='a@example.com'/><item jid='b@example.com'/>"), "bad-request");
}

TEST(RosterSet, NoItemIsBadRequest) { EXPECT_EQ(error_of(""), "bad-request"); }

TEST(RosterSet, MissingJidIsBadRequest) { EXPECT_EQ(error_of("<item name='x'/>"), "bad-request"); }

TEST(RosterSet, InvalidJidIsJidMalformed) {
  EXPECT_EQ(error_of("<item jid='a@b@example.com'/>"), "jid-malformed");
  EXPECT_EQ(error_of("<item jid=''/>"), "jid-malformed");
}

TEST(RosterSet, FullJidIsJidMalformed) {
  EXPECT_EQ(error_of("<item jid='a@example.com/res'/>"), "jid-malformed");
}

TEST(RosterSet, DuplicateGroupIsBadRequest) {
  EXPECT_EQ(error_of("<item jid='a@example.com'><group>X</group><group>X</group></item>"), "bad-request");
}

TEST(RosterSet, EmptyGroupIsNotAcceptable) {
  EXPECT_EQ(error_of("<item jid='a@example.com'><group></group></item>"), "not-acceptable");
  EXPECT_EQ(error_of("<item jid='a@example.com'><group/></item>"), "not-acceptable");
}

TEST(RosterSet, OverlongNameOrGroupIsNotAcceptable) {
  std::string long_text(kMaxTextBytes + 1, 'n');
  EXPECT_EQ(error_of("<item jid='a@example.com' name='" + long_text + "'/>"), "not-acceptable");
  EXPECT_EQ(error_of("<item jid='a@example.com'><group>" + long_text + "</group></item>"), "not-acceptable");
  std::string just_fits(kMaxTextBytes, 'n');
  EXPECT_EQ(error_of("<item jid='a@example.com' name='" + just_fits + "'/>"), "ok");
}

TEST(RosterSet, SubscriptionOtherThanRemoveIsIgnored) {
  // RFC 6121 §2.1.2.5: in a roster set the server ignores other values.
  auto s = ok("<item jid='a@example.com' subscription='both' ask='subscribe' approved='true'/>");
  EXPECT_FALSE(s.remove);
  EXPECT_EQ(s.jid, "a@example.com");
}

TEST(RosterSet, RemoveNeedsOnlyTheJid) {
  auto s = ok("<item jid='a@example.com' subscription='remove'/>");
  EXPECT_TRUE(s.remove);
}

TEST(RosterSet, AddingYourselfIsAllowed) { EXPECT_EQ(error_of("<item jid='me@example.com'/>"), "ok"); }

TEST(RosterItemXml, CarriesAskApprovedAndGroups) {
  storage::RosterItem item;
  item.jid = "romeo@example.net";
  item.name = "Romeo";
  item.subscription = "none";
  item.ask_out = true;
  item.approved = true;
  item.groups = {"Friends"};
  EXPECT_EQ(xml::to_string(item_element(item), ns::kClient),
            "<item xmlns='jabber:iq:roster' jid='romeo@example.net' name='Romeo' subscription='none' "
            "ask='subscribe' approved='true'><group>Friends</group></item>");
  EXPECT_EQ(xml::to_string(removed_item_element("romeo@example.net"), ns::kClient),
            "<item xmlns='jabber:iq:roster' jid='romeo@example.net' subscription='remove'/>");
}

TEST(RosterItemXml, PendingInIsNeverOnTheWire) {
  storage::RosterItem item;
  item.jid = "romeo@example.net";
  item.pending_in = true;
  EXPECT_EQ(xml::to_string(item_element(item), ns::kClient),
            "<item xmlns='jabber:iq:roster' jid='romeo@example.net' subscription='none'/>");
}

TEST(RosterItemHidden, OnlyRowsMadeByAnInboundRequest) {
  storage::RosterItem item;
  item.jid = "romeo@example.net";
  item.pending_in = true;
  EXPECT_TRUE(is_hidden(item));
  item.name = "Romeo";
  EXPECT_FALSE(is_hidden(item));  // the user named it
  item.name.clear();
  item.ask_out = true;
  EXPECT_FALSE(is_hidden(item));
  item.ask_out = false;
  item.subscription = "to";
  EXPECT_FALSE(is_hidden(item));
  item.subscription = "none";
  item.pending_in = false;
  EXPECT_FALSE(is_hidden(item));
}

}  // namespace
}  // namespace tern::modules::roster
