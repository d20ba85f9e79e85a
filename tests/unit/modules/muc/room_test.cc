#include "modules/muc/room.h"

#include <gtest/gtest.h>

#include "modules/muc/config_form.h"
#include "xml/parse_element.h"
#include "xml/serializer.h"
#include "xmpp/namespaces.h"

namespace tern::modules::muc {
namespace {

using std::chrono::seconds;
using xmpp::StanzaCondition;
using A = Affiliation;
using R = Role;

TEST(MucRoles, DefaultRoleFollowsAffiliationAndModeration) {
  RoomConfig open;
  RoomConfig moderated;
  moderated.moderated = true;
  EXPECT_EQ(default_role(A::kOwner, open), R::kModerator);
  EXPECT_EQ(default_role(A::kAdmin, open), R::kModerator);
  EXPECT_EQ(default_role(A::kMember, moderated), R::kParticipant);
  EXPECT_EQ(default_role(A::kNone, open), R::kParticipant);
  EXPECT_EQ(default_role(A::kNone, moderated), R::kVisitor);
  EXPECT_EQ(default_role(A::kOutcast, open), R::kNone);
}

TEST(MucRoles, OnlyModeratorsChangeRoles) {
  EXPECT_EQ(check_role_change(A::kMember, R::kParticipant, A::kNone, R::kParticipant, R::kNone),
            StanzaCondition::kForbidden);
  EXPECT_EQ(check_role_change(A::kNone, R::kModerator, A::kNone, R::kParticipant, R::kNone),
            std::nullopt);
  // Voice: grant and revoke.
  EXPECT_EQ(check_role_change(A::kNone, R::kModerator, A::kNone, R::kVisitor, R::kParticipant),
            std::nullopt);
  EXPECT_EQ(check_role_change(A::kAdmin, R::kModerator, A::kMember, R::kParticipant, R::kVisitor),
            std::nullopt);
}

TEST(MucRoles, NobodyKicksAdminsOwnersOrTheirBetters) {
  EXPECT_EQ(check_role_change(A::kOwner, R::kModerator, A::kAdmin, R::kModerator, R::kNone),
            StanzaCondition::kNotAllowed);
  EXPECT_EQ(check_role_change(A::kAdmin, R::kModerator, A::kOwner, R::kModerator, R::kNone),
            StanzaCondition::kNotAllowed);
  // A moderator by grant (no affiliation) cannot kick a member.
  EXPECT_EQ(check_role_change(A::kNone, R::kModerator, A::kMember, R::kParticipant, R::kNone),
            StanzaCondition::kNotAllowed);
}

TEST(MucRoles, ModeratorStatusIsForAdminsAndOwners) {
  EXPECT_EQ(check_role_change(A::kNone, R::kModerator, A::kNone, R::kParticipant, R::kModerator),
            StanzaCondition::kNotAllowed);
  EXPECT_EQ(check_role_change(A::kAdmin, R::kModerator, A::kNone, R::kParticipant, R::kModerator),
            std::nullopt);
  EXPECT_EQ(check_role_change(A::kAdmin, R::kModerator, A::kNone, R::kModerator, R::kParticipant),
            std::nullopt);
}

TEST(MucAffiliations, AdminsManageMembersAndOutcastsOnly) {
  EXPECT_EQ(check_affiliation_change(A::kMember, A::kNone, A::kMember), StanzaCondition::kForbidden);
  EXPECT_EQ(check_affiliation_change(A::kAdmin, A::kNone, A::kMember), std::nullopt);
  EXPECT_EQ(check_affiliation_change(A::kAdmin, A::kMember, A::kOutcast), std::nullopt);
  EXPECT_EQ(check_affiliation_change(A::kAdmin, A::kNone, A::kAdmin), StanzaCondition::kNotAllowed);
  EXPECT_EQ(check_affiliation_change(A::kAdmin, A::kAdmin, A::kOutcast), StanzaCondition::kNotAllowed);
  EXPECT_EQ(check_affiliation_change(A::kAdmin, A::kOwner, A::kNone), StanzaCondition::kNotAllowed);
  EXPECT_EQ(check_affiliation_change(A::kOwner, A::kAdmin, A::kOwner), std::nullopt);
  EXPECT_EQ(check_affiliation_change(A::kOwner, A::kOwner, A::kOutcast), std::nullopt);
}

TEST(MucAffiliations, NamesRoundTrip) {
  for (auto a : {A::kOutcast, A::kNone, A::kMember, A::kAdmin, A::kOwner})
    EXPECT_EQ(parse_affiliation(affiliation_name(a)), a);
  for (auto r : {R::kNone, R::kVisitor, R::kParticipant, R::kModerator}) EXPECT_EQ(parse_role(role_name(r)), r);
  EXPECT_EQ(parse_affiliation("king"), std::nullopt);
}

xml::Element message(int i) {
  xml::Element m("message", "jabber:client");
  m.set_attr("type", "groupchat");
  m.add_child("body").add_text("message " + std::to_string(i));
  return m;
}

std::vector<std::string> bodies(const std::vector<const HistoryEntry*>& entries) {
  std::vector<std::string> out;
  for (const auto* e : entries) out.push_back(e->stanza.child_text("body"));
  return out;
}

TEST(MucHistory, KeepsTheNewestUpToTheRoomLimit) {
  History h;
  const auto t0 = std::chrono::system_clock::now();
  for (int i = 0; i < 10; ++i) h.push(message(i), t0, 3);
  EXPECT_EQ(h.size(), 3u);
  EXPECT_EQ(bodies(h.select({}, t0)), (std::vector<std::string>{"message 7", "message 8", "message 9"}));
  h.push(message(10), t0, 0);
  EXPECT_EQ(h.size(), 0u);
}

TEST(MucHistory, MaxStanzasMaxCharsSecondsSince) {
  History h;
  const auto t0 = std::chrono::system_clock::now();
  for (int i = 0; i < 5; ++i) h.push(message(i), t0 + seconds(i * 10), 20);
  const auto now = t0 + seconds(45);
  HistoryRequest two;
  two.max_stanzas = 2;
  EXPECT_EQ(bodies(h.select(two, now)), (std::vector<std::string>{"message 3", "message 4"}));
  HistoryRequest none;
  none.max_chars = 0;
  EXPECT_TRUE(h.select(none, now).empty());
  HistoryRequest one_fits;
  one_fits.max_chars = h.select({}, now).back()->chars + 1;
  EXPECT_EQ(bodies(h.select(one_fits, now)), (std::vector<std::string>{"message 4"}));
  HistoryRequest recent;
  recent.seconds = 20;  // t0+25 onwards: 30 and 40
  EXPECT_EQ(bodies(h.select(recent, now)), (std::vector<std::string>{"message 3", "message 4"}));
  HistoryRequest since;
  since.since = t0 + seconds(20);
  EXPECT_EQ(bodies(h.select(since, now)),
            (std::vector<std::string>{"message 2", "message 3", "message 4"}));
}

TEST(MucHistory, ParsesTheJoinRequest) {
  auto el = xml::parse_element(
      "<history xmlns='http://jabber.org/protocol/muc' maxstanzas='5' maxchars='x' seconds='-1'"
      " since='1970-01-01T00:01:00Z'/>", ns::kClient);
  ASSERT_TRUE(el);
  auto r = parse_history_request(&*el);
  EXPECT_EQ(r.max_stanzas, 5u);
  EXPECT_EQ(r.max_chars, std::nullopt);
  EXPECT_EQ(r.seconds, std::nullopt);
  ASSERT_TRUE(r.since);
  EXPECT_EQ(*r.since, std::chrono::system_clock::time_point(seconds(60)));
  auto offset = xml::parse_element("<history since='2026-01-01T01:00:00.123+01:00'/>", ns::kClient);
  auto utc = xml::parse_element("<history since='2026-01-01T00:00:00Z'/>", ns::kClient);
  EXPECT_EQ(parse_history_request(&*offset).since, parse_history_request(&*utc).since);
}

TEST(MucRoom, OccupantIdsAreStablePerRoomAndDifferAcrossRooms) {
  Room a(xmpp::Jid::from_parts("a", "conference.example.com"), "salt-a");
  Room b(xmpp::Jid::from_parts("b", "conference.example.com"), "salt-b");
  const auto alice = xmpp::Jid::from_parts("alice", "example.com");
  EXPECT_EQ(a.occupant_id_for(alice), a.occupant_id_for(alice));
  EXPECT_NE(a.occupant_id_for(alice), b.occupant_id_for(alice));
  EXPECT_EQ(a.occupant_id_for(alice).find("alice"), std::string::npos);
}

TEST(MucRoom, RenameKeepsTheOccupant) {
  Room room(xmpp::Jid::from_parts("a", "conference.example.com"), "s");
  Occupant o;
  o.nick = "old";
  o.bare = xmpp::Jid::from_parts("alice", "example.com");
  o.sessions = {o.bare.with_resource("r")};
  room.add_occupant(o);
  auto& renamed = room.rename_occupant("old", "new");
  EXPECT_EQ(renamed.nick, "new");
  EXPECT_EQ(room.occupant_by_nick("old"), nullptr);
  EXPECT_EQ(room.occupant_by_session(o.bare.with_resource("r")), &renamed);
}

TEST(MucConfigForm, SubmittedValuesApplyAndBadOnesAreRefused) {
  RoomConfig c;
  auto form = xml::parse_element(
      "<x xmlns='jabber:x:data' type='submit'>"
      "<field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#roomconfig</value></field>"
      "<field var='muc#roomconfig_roomname'><value>Name</value></field>"
      "<field var='muc#roomconfig_persistentroom'><value>true</value></field>"
      "<field var='muc#roomconfig_membersonly'><value>1</value></field>"
      "<field var='muc#roomconfig_roomsecret'><value>pw</value></field>"
      "<field var='muc#roomconfig_maxusers'><value>30</value></field>"
      "<field var='muc#roomconfig_whois'><value>anyone</value></field>"
      "<field var='muc#roomconfig_historylength'><value>500</value></field>"
      "<field var='some#unknown'><value>x</value></field>"
      "</x>", ns::kClient);
  ASSERT_TRUE(form);
  EXPECT_EQ(apply_config_form(*form, c, 50), std::nullopt);
  EXPECT_EQ(c.name, "Name");
  EXPECT_TRUE(c.persistent);
  EXPECT_TRUE(c.members_only);
  EXPECT_TRUE(c.password_protected);  // a password without the flag protects
  EXPECT_EQ(c.max_users, 30);
  EXPECT_TRUE(c.is_non_anonymous());
  EXPECT_EQ(c.history_length, 50);  // capped

  const RoomConfig before = c;
  auto bad = xml::parse_element(
      "<x xmlns='jabber:x:data' type='submit'>"
      "<field var='muc#roomconfig_roomname'><value>Other</value></field>"
      "<field var='muc#roomconfig_moderatedroom'><value>maybe</value></field></x>", ns::kClient);
  EXPECT_NE(apply_config_form(*bad, c, 50), std::nullopt);
  EXPECT_EQ(c, before);  // untouched
  auto not_submit = xml::parse_element("<x xmlns='jabber:x:data' type='form'/>", ns::kClient);
  EXPECT_NE(apply_config_form(*not_submit, c, 50), std::nullopt);
  auto instant = xml::parse_element("<x xmlns='jabber:x:data' type='submit'/>", ns::kClient);
  EXPECT_EQ(apply_config_form(*instant, c, 50), std::nullopt);
  EXPECT_EQ(c, before);
}

TEST(MucConfigForm, StoredConfigRoundTrips) {
  RoomConfig c;
  c.name = "n <&> 'q'";
  c.description = "d";
  c.persistent = true;
  c.is_public = false;
  c.moderated = true;
  c.password_protected = true;
  c.password = "pw";
  c.max_users = 7;
  c.occupants_change_subject = true;
  c.allow_invites = true;
  c.history_length = 3;
  c.archiving = false;
  auto parsed = parse_stored_config(stored_config(c, "c2FsdA=="), 100);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->first, c);
  EXPECT_EQ(parsed->second, "c2FsdA==");
  EXPECT_EQ(parse_stored_config("not xml", 100), std::nullopt);
}

// Prosody's field and ejabberd's: clients send either.
TEST(MucConfigForm, ArchivingTakesBothFieldNames) {
  RoomConfig c;
  auto off = xml::parse_element(
      "<x xmlns='jabber:x:data' type='submit'>"
      "<field var='muc#roomconfig_enablearchiving'><value>0</value></field></x>", ns::kClient);
  EXPECT_EQ(apply_config_form(*off, c, 50), std::nullopt);
  EXPECT_FALSE(c.archiving);
  auto on = xml::parse_element(
      "<x xmlns='jabber:x:data' type='submit'><field var='mam'><value>true</value></field></x>", ns::kClient);
  EXPECT_EQ(apply_config_form(*on, c, 50), std::nullopt);
  EXPECT_TRUE(c.archiving);
  auto bad = xml::parse_element(
      "<x xmlns='jabber:x:data' type='submit'><field var='mam'><value>perhaps</value></field></x>", ns::kClient);
  EXPECT_NE(apply_config_form(*bad, c, 50), std::nullopt);
  auto form = config_form(c, 50);
  bool offered = false;
  for (const auto* f : form.children())
    if (f->attr_or("var") == "muc#roomconfig_enablearchiving") offered = true;
  EXPECT_TRUE(offered);
}

TEST(MucHistory, ErasesARetractedMessageOnlyOfItsSender) {
  History h;
  const auto t0 = std::chrono::system_clock::now();
  for (int i = 0; i < 3; ++i) {
    auto m = message(i);
    auto& sid = m.add_child("stanza-id", "urn:xmpp:sid:0");
    sid.set_attr("by", "room@muc.example");
    sid.set_attr("id", "id" + std::to_string(i));
    m.add_child("occupant-id", std::string(kOccupantIdNs)).set_attr("id", i == 1 ? "bob" : "alice");
    h.push(std::move(m), t0, 10);
  }
  h.erase_stanza("room@muc.example", "id1", "alice");  // not hers
  h.erase_stanza("other@muc.example", "id0", "");      // another room's id
  EXPECT_EQ(h.size(), 3u);
  h.erase_stanza("room@muc.example", "id1", "bob");
  h.erase_stanza("room@muc.example", "id2", "");  // a moderator's
  EXPECT_EQ(bodies(h.select({}, t0)), (std::vector<std::string>{"message 0"}));
}

TEST(MucAvatar, PhotosAreKeptWithTheirHashesAndNoPhotoMeansNoAvatar) {
  // "hello" and "abc" in base64, the first one wrapped as clients wrap it.
  auto vcard = xml::parse_element(
      "<vCard xmlns='vcard-temp'><FN>Room</FN>"
      "<PHOTO><TYPE>image/png</TYPE><BINVAL>aGVs\n bG8=</BINVAL></PHOTO>"
      "<PHOTO><BINVAL>YWJj</BINVAL></PHOTO></vCard>", ns::kClient);
  ASSERT_TRUE(vcard);
  auto read = read_avatar(*vcard, 1024);
  auto& avatar = std::get<std::optional<RoomAvatar>>(read);
  ASSERT_TRUE(avatar);
  EXPECT_EQ(avatar->hashes, (std::vector<std::string>{"aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d",
                                                      "a9993e364706816aba3e25717850c26c9cd0d89d"}));
  // PHOTOs only, whitespace gone.
  EXPECT_EQ(xml::to_string(avatar->vcard, ns::kClient),
            "<vCard xmlns='vcard-temp'><PHOTO><TYPE>image/png</TYPE><BINVAL>aGVsbG8=</BINVAL></PHOTO>"
            "<PHOTO><BINVAL>YWJj</BINVAL></PHOTO></vCard>");
  auto again = stored_avatar(xml::to_string(avatar->vcard, ns::kClient));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->hashes, avatar->hashes);
  EXPECT_FALSE(stored_avatar(""));

  auto empty = xml::parse_element("<vCard xmlns='vcard-temp'><FN>x</FN></vCard>", ns::kClient);
  EXPECT_FALSE(std::get<std::optional<RoomAvatar>>(read_avatar(*empty, 1024)));
}

TEST(MucAvatar, UnreadableOrOversizedPhotosAreRefused) {
  auto bad = xml::parse_element("<vCard xmlns='vcard-temp'><PHOTO><BINVAL>!!</BINVAL></PHOTO></vCard>", ns::kClient);
  EXPECT_EQ(std::get<xmpp::StanzaError>(read_avatar(*bad, 1024)).condition, StanzaCondition::kBadRequest);
  auto big = xml::parse_element("<vCard xmlns='vcard-temp'><PHOTO><BINVAL>aGVsbG8=</BINVAL></PHOTO></vCard>", ns::kClient);
  EXPECT_EQ(std::get<xmpp::StanzaError>(read_avatar(*big, 4)).condition, StanzaCondition::kNotAcceptable);
  EXPECT_TRUE(std::holds_alternative<std::optional<RoomAvatar>>(read_avatar(*big, 5)));
}

TEST(MucRegisteredNicks, GoWithTheAffiliation) {
  Room room(*xmpp::Jid::parse("r@conference.example.org"), "salt");
  const auto bob = *xmpp::Jid::parse("bob@example.org");
  room.set_affiliation(bob, A::kMember);
  room.register_nick(bob, "bobby");
  ASSERT_TRUE(room.registered_nick(bob));
  EXPECT_EQ(*room.registered_nick(bob), "bobby");
  ASSERT_TRUE(room.nick_owner("bobby"));
  EXPECT_EQ(*room.nick_owner("bobby"), "bob@example.org");
  EXPECT_FALSE(room.nick_owner("bob"));
  room.set_affiliation(bob, A::kAdmin);  // promoted: still registered
  EXPECT_TRUE(room.registered_nick(bob));
  room.set_affiliation(bob, A::kOutcast);  // banned: the nick is free
  EXPECT_FALSE(room.registered_nick(bob));
  EXPECT_FALSE(room.nick_owner("bobby"));
}

}  // namespace
}  // namespace tern::modules::muc
