// One XEP-0045 room: its configuration, affiliations, occupants, subject and
// history, and the rules of who may do what to whom (roles and
// affiliations, §5). A Room is plain state owned by one shard; it sends
// nothing itself (the service does that).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "xml/element.h"
#include "xmpp/errors.h"
#include "xmpp/jid.h"

namespace tern::modules::muc {

inline constexpr std::string_view kMucNs = "http://jabber.org/protocol/muc";
inline constexpr std::string_view kUserNs = "http://jabber.org/protocol/muc#user";
inline constexpr std::string_view kAdminNs = "http://jabber.org/protocol/muc#admin";
inline constexpr std::string_view kOwnerNs = "http://jabber.org/protocol/muc#owner";
inline constexpr std::string_view kOccupantIdNs = "urn:xmpp:occupant-id:0";
inline constexpr std::string_view kVcardNs = "vcard-temp";
inline constexpr std::string_view kRegisterNs = "jabber:iq:register";
inline constexpr std::string_view kRegisterFormType = "http://jabber.org/protocol/muc#register";

// Ordered by rank: a higher affiliation outranks a lower one.
enum class Affiliation { kOutcast, kNone, kMember, kAdmin, kOwner };
enum class Role { kNone, kVisitor, kParticipant, kModerator };

const char* affiliation_name(Affiliation a);
std::optional<Affiliation> parse_affiliation(std::string_view name);
const char* role_name(Role r);
std::optional<Role> parse_role(std::string_view name);

// Who sees occupants' real JIDs (muc#roomconfig_whois).
enum class Whois { kModerators, kAnyone };

// The muc#roomconfig fields Tern knows (§10.2). A new room starts with
// these defaults until its owner submits the form.
struct RoomConfig {
  std::string name;
  std::string description;
  bool persistent = false;
  bool is_public = true;
  bool members_only = false;
  bool moderated = false;
  bool password_protected = false;
  std::string password;
  int max_users = 0;  // 0: no limit
  Whois whois = Whois::kModerators;
  bool occupants_change_subject = false;
  bool allow_invites = false;
  int history_length = 20;
  // XEP-0313 on the room JID (muc#roomconfig_enablearchiving); a new
  // room's default is the module's `archive` option.
  bool archiving = true;

  bool is_non_anonymous() const { return whois == Whois::kAnyone; }
  friend bool operator==(const RoomConfig&, const RoomConfig&) = default;
};

// --- the rules of §5, as pure functions ---------------------------------

// The role an occupant gets on entering (§5.1.2 table).
Role default_role(Affiliation a, const RoomConfig& config);
// May an occupant with `actor_aff`/`actor_role` give `target` (who holds
// `target_aff`/`target_role`) the role `new_role`? The error otherwise
// (§8.2 kick, §8.3-8.4 voice, §9.6-9.7 moderators).
std::optional<xmpp::StanzaCondition> check_role_change(Affiliation actor_aff, Role actor_role,
                                                       Affiliation target_aff, Role target_role,
                                                       Role new_role);
// May `actor` change an affiliation from `current` to `wanted` (§9, §10)?
// The last-owner rule is the room's (it needs the whole list).
std::optional<xmpp::StanzaCondition> check_affiliation_change(Affiliation actor,
                                                              Affiliation current,
                                                              Affiliation wanted);

// --- history (§7.2.15) ----------------------------------------------------

struct HistoryEntry {
  xml::Element stanza;  // as broadcast, from room/nick, without 'to'
  std::size_t chars = 0;  // length of the serialised stanza (maxchars counts these)
  std::chrono::system_clock::time_point at;
};

// What a joining client asked for in <history/>; unset: no limit of that kind.
struct HistoryRequest {
  std::optional<std::size_t> max_stanzas;
  std::optional<std::size_t> max_chars;
  std::optional<std::int64_t> seconds;
  std::optional<std::chrono::system_clock::time_point> since;
};
// nullopt fields for attributes absent or malformed.
HistoryRequest parse_history_request(const xml::Element* history);

// The last messages of a room, bounded by its historylength. In memory
// only: a restart or the room's end forgets it.
class History {
 public:
  void push(xml::Element stanza, std::chrono::system_clock::time_point at, std::size_t limit);
  void trim(std::size_t limit);
  // The newest entries that fit every limit of `request`, oldest first.
  std::vector<const HistoryEntry*> select(const HistoryRequest& request,
                                          std::chrono::system_clock::time_point now) const;
  std::size_t size() const { return entries_.size(); }
  // Forgets the message with this stanza-id by the room (a retraction);
  // with `occupant_id`, only if that occupant sent it.
  void erase_stanza(std::string_view room, std::string_view stanza_id,
                    std::string_view occupant_id);

 private:
  std::deque<HistoryEntry> entries_;
};

// --- occupants and the room -------------------------------------------------

// --- the room's avatar (XEP-0486) -----------------------------------------

// The room's vCard as its owner set it, PHOTOs only (the room's name and
// description are its configuration), and the SHA-1 (hex) of each image.
struct RoomAvatar {
  xml::Element vcard;
  std::vector<std::string> hashes;
};

// An owner's vCard set: the avatar it gives the room (nullopt: none, for a
// vCard without PHOTO), or why it is refused (a PHOTO without a readable
// BINVAL, images above `max_bytes` decoded bytes in all).
std::variant<std::optional<RoomAvatar>, xmpp::StanzaError> read_avatar(const xml::Element& vcard,
                                                                        std::size_t max_bytes);
// The avatar of a stored vCard (nullopt when empty or unreadable).
std::optional<RoomAvatar> stored_avatar(const std::string& vcard_xml);

struct Occupant {
  std::string nick;
  xmpp::Jid bare;  // real bare JID
  // Real full JIDs joined under this nick: more than one when several
  // resources of one account share the nick (multi-session nicks).
  std::vector<xmpp::Jid> sessions;
  Role role = Role::kParticipant;
  xml::Element presence;  // the last presence it sent to the room, unaddressed
  std::string occupant_id;  // XEP-0421

  bool has_session(const xmpp::Jid& full) const;
};

class Room {
 public:
  Room(xmpp::Jid jid, std::string id_salt) : jid_(std::move(jid)), id_salt_(std::move(id_salt)) {}

  const xmpp::Jid& jid() const { return jid_; }
  const std::string& id_salt() const { return id_salt_; }
  RoomConfig config;
  bool locked = false;  // created, not yet configured (§10.1.1)
  std::string subject;
  std::string subject_nick;  // who set it; empty: the room
  History history;

  Affiliation affiliation_of(const xmpp::Jid& jid) const;
  // kNone removes the entry.
  void set_affiliation(const xmpp::Jid& bare, Affiliation a);
  const std::map<std::string, Affiliation>& affiliations() const { return affiliations_; }
  std::size_t count_of(Affiliation a) const;

  Occupant* occupant_by_nick(std::string_view nick);
  // The occupant one of whose sessions is `full`.
  Occupant* occupant_by_session(const xmpp::Jid& full);
  const Occupant* occupant_by_session(const xmpp::Jid& full) const {
    return const_cast<Room*>(this)->occupant_by_session(full);
  }
  std::vector<Occupant*> occupants_of(const xmpp::Jid& bare);
  std::map<std::string, Occupant>& occupants() { return occupants_; }
  const std::map<std::string, Occupant>& occupants() const { return occupants_; }
  Occupant& add_occupant(Occupant o);
  void remove_occupant(const std::string& nick) { occupants_.erase(nick); }
  // Renames an occupant; the caller has checked `to` is free.
  Occupant& rename_occupant(const std::string& from, const std::string& to);
  bool is_empty() const { return occupants_.empty(); }

  // Registered nicks (§7.10): only an affiliated JID keeps one, so losing
  // the affiliation (none, outcast) forgets it.
  const std::string* registered_nick(const xmpp::Jid& bare) const;
  // The bare JID that registered `nick`, or nullptr.
  const std::string* nick_owner(std::string_view nick) const;
  void register_nick(const xmpp::Jid& bare, std::string nick);
  void unregister_nick(const xmpp::Jid& bare);
  const std::map<std::string, std::string>& registered_nicks() const { return nicks_; }
  std::optional<RoomAvatar> avatar;

  // The XEP-0421 id of a real bare JID: stable for the room, opaque.
  std::string occupant_id_for(const xmpp::Jid& bare) const;

 private:
  xmpp::Jid jid_;
  std::string id_salt_;
  std::map<std::string, Affiliation> affiliations_;  // bare JID → not kNone
  std::map<std::string, Occupant> occupants_;        // by nick
  std::map<std::string, std::string> nicks_;         // bare JID → registered nick
};

}  // namespace tern::modules::muc
