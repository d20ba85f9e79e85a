// The XEP-0045 service: takes every stanza to conference.<domain> and its
// rooms, and keeps the room table.
//
// Where state lives: a room lives on one shard, picked by a hash of its bare
// JID, and is touched only there. The domain handler runs on the shard that
// routes a stanza; a stanza for a room on another shard crosses as bytes
// (serialised here, parsed there), like any delivery. Stanzas from one
// sender reach a room in the order sent: one routing shard posts to one
// room shard in order.
//
// Facets, one file each: join.cc (presence: join, leave, nick change),
// messages.cc (groupchat, subject, private messages, invitations),
// admin.cc (muc#admin roles and affiliations), owner.cc (muc#owner
// configuration and destruction), disco.cc (service and room discovery),
// persist.cc (the write queue to MucStore), avatar.cc (the room's vCard),
// register.cc (registered nicks).
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "modules/adhoc/data_form.h"
#include "modules/mam/shared_archive.h"
#include "modules/module.h"
#include "modules/muc/retraction.h"
#include "modules/muc/room.h"

namespace tern::modules::muc {

// [modules.muc], and the server admins.
struct MucOptions {
  std::string domain = "conference.{domain}";  // per local domain, see service_domain()
  std::string create = "local";  // who may create rooms: "local", "anyone", "admins"
  int default_history = 20;  // historylength of a new room
  int max_history = 100;     // the most a room may keep
  std::set<std::string> admins;  // server admins (bare JIDs): owners of every room
  bool archive_default = true;       // does a new room archive (XEP-0313)?
  std::int64_t archive_retention_days = 0;  // 0: keep room archives
  std::size_t archive_max_page = 250;       // messages per MAM page at most
  std::size_t avatar_max_bytes = 128 * 1024;  // a room avatar's images, decoded
};
inline constexpr OptionField<MucOptions> kMucOptions[] = {
    option("domain", &MucOptions::domain,
           "Where the multi-user chat service of each local domain lives ({domain}: that domain)"),
    choice("create", &MucOptions::create, "local|anyone|admins",
           "Who may create rooms: \"local\" (accounts of this server), \"anyone\" or \"admins\" "
           "(server.admins)"),
    option("default_history", &MucOptions::default_history, 0, "max_history",
           "Messages of history a new room keeps (its owner may change it)"),
    option("max_history", &MucOptions::max_history, 0, 10000,
           "The most messages of history any room may keep (in memory)"),
    option("archive", &MucOptions::archive_default,
           "Whether a new room archives its messages (XEP-0313 on the room JID); its owner may "
           "change it"),
    option("archive_retention_days", &MucOptions::archive_retention_days, 0, 36500,
           "Days a room's archived messages are kept (0: forever, unless mam.retention_days, which "
           "bounds every archive, is shorter); older ones are purged hourly"),
    option("archive_max_page", &MucOptions::archive_max_page, 1, 10000,
           "Most messages one query of a room's archive returns (a larger RSM <max> is clamped)"),
    option("avatar_max_bytes", &MucOptions::avatar_max_bytes, 1024, 1 << 20,
           "Largest room avatar (XEP-0486), in bytes of image; larger vCard sets are refused"),
};

// The rooms one shard owns, and its queue of storage writes.
struct ShardRooms {
  std::unordered_map<std::string, std::unique_ptr<Room>> rooms;  // by bare JID
  // Writes of persistent rooms to MucStore, in order, one at a time (see
  // persist.cc for what happens to them on SIGTERM, kill -9, full disk).
  std::deque<std::function<void(storage::MucStore&)>> writes;
  bool writing = false;
  // Rooms whose old archive is being deleted (destroyed, then perhaps made
  // again): rows at or below the id are the old room's, which queries skip
  // until the deletion is done.
  std::unordered_map<std::string, std::int64_t> archive_floors;
};

// Public, unlocked rooms by JID with their names, for disco#items of the
// service: written by the room shards, read by whichever shard answers.
class RoomDirectory {
 public:
  void set(const std::string& jid, const std::string& name, bool listed);
  std::vector<DiscoItem> items(const std::string& service) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::string> rooms_;
};

// What other modules plug into rooms.
struct RoomServices {
  // The server's message archive (ids and writer), shared with account
  // MAM; rooms archive under their bare JID (archive.cc).
  std::shared_ptr<mam::SharedArchive> archive;
};

// Why an occupant leaves, for the unavailable presence that says so.
struct Departure {
  std::vector<int> codes;                 // status codes for everyone (110 added for self)
  const xml::Element* presence = nullptr; // the occupant's own unavailable presence, if any
  std::string actor_nick;                 // the moderator who kicked or banned
  std::string reason;
  std::string new_nick;                   // 303: nick change
  const xml::Element* destroy = nullptr;  // room destruction (§10.9)

  static Departure with(std::vector<int> codes, const xml::Element* presence = nullptr) {
    Departure d;
    d.codes = std::move(codes);
    d.presence = presence;
    return d;
  }
};

// The muc#request form of a message (§8.6), if it carries one.
std::optional<adhoc::DataForm> voice_request_form(const xml::Element& message);

class MucService {
 public:
  MucService(const Host& host, storage::Storage& storage, core::BlockingPool& blocking,
             MucOptions options);

  // Loads the persistent rooms of `service` (at start, before any stanza).
  void load_rooms(const std::string& service);
  void set_services(RoomServices services) { services_ = std::move(services); }
  // The server stops: every occupant of this shard's rooms leaves with 332
  // (§9.9 "system shutdown"), before the streams close. On each shard.
  void on_server_stopping();
  // Retention of room archives: this shard's rooms (on each shard).
  void purge_archives();
  // The domain handler: on the routing shard.
  void on_stanza(xml::Element stanza, const xmpp::Jid& from, const xmpp::Jid& to);

 private:
  unsigned shard_of(const xmpp::Jid& room) const;
  ShardRooms& here();
  Room* find_room(const xmpp::Jid& room);
  // On the room's shard.
  void on_room_stanza(xml::Element stanza, const xmpp::Jid& from, const xmpp::Jid& to);
  void on_service_stanza(const xml::Element& stanza, const xmpp::Jid& from, const xmpp::Jid& to);

  // --- join.cc
  void on_presence(Room* room, xml::Element& stanza, const xmpp::Jid& from, const xmpp::Jid& to);
  void join(Room* room, xml::Element& stanza, const xmpp::Jid& from, const xmpp::Jid& to);
  // One session of `occupant` leaves (the occupant with its last session).
  void leave(Room& room, Occupant& occupant, const xmpp::Jid& session, Departure departure);
  void change_nick(Room& room, Occupant& occupant, const xml::Element& stanza, const xmpp::Jid& to);
  void update_presence(Room& room, Occupant& occupant, const xml::Element& stanza);
  bool may_create(const xmpp::Jid& who) const;
  Room& create_room(const xmpp::Jid& jid, const xmpp::Jid& owner);
  // Removes an occupant whose client bounced what the room sent it.
  void drop_session(Room& room, const xmpp::Jid& session);
  void send_history_and_subject(Room& room, const xml::Element* muc_x, const xmpp::Jid& to);
  // What a session hears on entering: the others' presence, its own (110),
  // history and subject.
  void send_room_state(Room& room, const Occupant& occupant, const xmpp::Jid& session,
                       const xml::Element* muc_x, std::vector<int> self_codes = {});

  // --- presence builders (join.cc)
  // The presence of `o` as `viewer` sees it (real JID only when allowed).
  xml::Element presence_of(const Room& room, const Occupant& o, const Occupant* viewer,
                           const std::vector<int>& codes) const;
  xml::Element unavailable_of(const Room& room, const Occupant& o, const Occupant* viewer,
                              const Departure& departure, bool self) const;
  bool may_see_jids(const Room& room, const Occupant* viewer) const;
  // Sends the occupant's presence to every occupant; `o` itself gets
  // `self_codes` and 110 (§7.2.3).
  void broadcast_presence(Room& room, const Occupant& o, const std::vector<int>& codes,
                          std::vector<int> self_codes = {});
  // Tells every occupant and `nick` itself (with 110) that it left, then
  // removes it. Empty temporary rooms close after the stanza is handled.
  void remove_occupant(Room& room, const std::string& nick, const Departure& departure);
  void close_if_empty(const xmpp::Jid& room);

  // --- messages.cc
  void on_message(Room* room, xml::Element& stanza, const xmpp::Jid& from, const xmpp::Jid& to);
  void groupchat(Room& room, Occupant& sender, xml::Element& stanza);
  void private_message(Room& room, Occupant& sender, xml::Element& stanza, const xmpp::Jid& to);
  void invite(Room& room, Occupant* sender, const xml::Element& stanza, const xmpp::Jid& from);
  // A message from the room itself (status codes, config changes) to all.
  void notify_all(Room& room, const std::vector<int>& codes);

  // --- voice.cc (§8.6 voice requests)
  void on_voice_request(Room& room, Occupant* sender, const xml::Element& stanza,
                        const adhoc::DataForm& form);
  void approve_voice(Room& room, Occupant& moderator, const xml::Element& stanza,
                     const adhoc::DataForm& form);

  // --- admin.cc
  void on_admin(Room& room, const xml::Element& iq, const xml::Element& query, const xmpp::Jid& from);
  // Applies the occupant's new affiliation/role to the room and tells everyone.
  void apply_affiliation(Room& room, const xmpp::Jid& bare, Affiliation wanted, const std::string& actor_nick,
                         const std::string& reason);

  // --- avatar.cc (XEP-0486: the room's vCard)
  void on_vcard(Room& room, const xml::Element& iq, const xml::Element& vcard, const xmpp::Jid& from);

  // --- register.cc (§7.10 nick registration, §7.12 reserved nick)
  void on_register(Room& room, const xml::Element& iq, const xml::Element& query, const xmpp::Jid& from);
  // The disco#info answer for node x-roomuser-item: the asker's registered nick.
  xml::Element reserved_nick_info(const Room& room, const xmpp::Jid& from) const;

  // --- owner.cc
  void on_owner(Room& room, const xml::Element& iq, const xml::Element& query, const xmpp::Jid& from);
  void destroy_room(Room& room, const xml::Element* destroy);

  // --- disco.cc
  xml::Element room_info(const Room& room) const;
  void on_room_iq(Room* room, const xml::Element& iq, const xmpp::Jid& from, const xmpp::Jid& to);
  void forward_iq(Room& room, const xml::Element& iq, const xmpp::Jid& from, const xmpp::Jid& to);

  // --- archive.cc (XEP-0313 on the room JID, XEP-0424 and XEP-0425)
  bool archives(const Room& room) const { return services_.archive && room.config.archiving; }
  // Gives `m` (as broadcast: from room/nick, no 'to') the room's stanza-id
  // and queues its row, if the room archives it. The archive id, or 0.
  std::int64_t archive_message(Room& room, const xmpp::Jid& sender_bare, xml::Element& m);
  void on_mam(Room& room, const xml::Element& iq, const xml::Element& query, const xmpp::Jid& from);
  // May `from` read the room's archive? The error otherwise.
  std::optional<xmpp::StanzaError> check_archive_reader(const Room& room, const xmpp::Jid& from) const;
  // XEP-0313 §5: the first and last ids and stamps of the room's archive.
  static awaitable<void> send_metadata(MucService* self, xml::Element iq, std::string room,
                                       std::int64_t floor);
  // A sender's own retraction (XEP-0424): tombstones the archived message
  // if it is theirs. `retraction` is the archive id of the retraction message.
  void retract(Room& room, const Occupant& sender, const std::string& id, std::int64_t retraction);
  void on_moderate(Room& room, const xml::Element& iq, const xml::Element& payload,
                   const xmpp::Jid& from);
  // Deletes the room's archive (the room is destroyed), after its queued rows.
  void drop_archive(const Room& room);
  struct RoomQuery;  // archive.cc
  static awaitable<void> run_room_query(MucService* self, std::shared_ptr<RoomQuery> query);
  static awaitable<void> moderate(MucService* self, xml::Element iq, std::string room,
                                  std::int64_t id, xml::Element notice, xml::Element retracted,
                                  std::string moderator_bare);
  static awaitable<void> tombstone_own(MucService* self, std::string room, std::int64_t id,
                                       std::string sender_bare, xml::Element retracted);
  static awaitable<void> purge_room_archives(MucService* self, std::vector<std::string> rooms);
  static awaitable<void> delete_archive(MucService* self, std::string room, std::int64_t floor);

  // --- persist.cc
  void save(Room& room);
  void forget(const Room& room);
  void queue_write(std::function<void(storage::MucStore&)> write);
  awaitable<void> drain_writes(unsigned shard);
  void publish(const Room& room);  // keeps the directory in step

  // --- sending
  void send(xml::Element stanza) const { host_.route(std::move(stanza)); }
  void reply_error(const xml::Element& stanza, const xmpp::StanzaError& err) const;
  // A copy of `stanza` to every session of `o`.
  void send_to_occupant(const Occupant& o, const xml::Element& stanza) const;
  // The room's fan-out (§3 of the design: parsed once, serialised once per
  // form): `form(viewer)` builds the stanza as `viewer` sees it, once for the
  // occupants who may see real JIDs and once for those who may not, and each
  // form goes to all its sessions in one Host::route_copies. `except` gets
  // nothing (the subject of a presence, who gets its own form with 110).
  using FormFor = std::function<xml::Element(const Occupant& viewer)>;
  void send_to_occupants(const Room& room, const FormFor& form, const Occupant* except = nullptr) const;
  // The same stanza, whoever looks.
  void send_to_occupants(const Room& room, const xml::Element& stanza) const;
  Affiliation affiliation_of(const Room& room, const xmpp::Jid& who) const;

  Host host_;
  storage::Storage& storage_;
  storage::MucStore& store_;
  core::BlockingPool& blocking_;
  MucOptions options_;
  RoomServices services_;
  std::vector<std::unique_ptr<ShardRooms>> shards_;
  RoomDirectory directory_;
};

std::unique_ptr<Module> start_muc(ModuleContext& ctx);

}  // namespace tern::modules::muc
