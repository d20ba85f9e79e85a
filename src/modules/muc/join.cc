// Presence to a room (XEP-0045 §7.1-7.7, §10.1): entering (and creating),
// presence updates, nick changes, leaving; and the in-room presence the
// room sends about its occupants.
#include <algorithm>
#include <chrono>

#include "modules/muc/service.h"
#include "sasl/mechanism.h"
#include "xmpp/namespaces.h"
#include "xmpp/datetime.h"

namespace tern::modules::muc {

using xmpp::ErrorType;
using xmpp::StanzaCondition;
using xmpp::StanzaError;

namespace {

// §7.12: a nick registered with the room is its registrant's alone.
bool is_reserved_for_another(const Room& room, std::string_view nick, const xmpp::Jid& who) {
  const std::string* holder = room.nick_owner(nick);
  return holder && *holder != who.bare_string();
}

void remove_all(xml::Element& el, std::string_view name, std::string_view ns) {
  while (el.remove_child(name, ns)) {
  }
}

// What the room keeps of an occupant's presence: the payload (show, status,
// caps, …) without addressing or anything the room itself adds.
xml::Element clean_presence(const xml::Element& in) {
  xml::Element p = in;
  p.remove_attr("to");
  p.remove_attr("from");
  p.remove_attr("type");
  remove_all(p, "x", kMucNs);
  remove_all(p, "x", kUserNs);
  remove_all(p, "occupant-id", kOccupantIdNs);
  return p;
}

void add_codes(xml::Element& x, const std::vector<int>& codes) {
  for (int code : codes) x.add_child("status").set_attr("code", std::to_string(code));
}

std::vector<int> with_self(std::vector<int> codes) {
  codes.insert(codes.begin(), 110);
  return codes;
}

}  // namespace

bool MucService::may_see_jids(const Room& room, const Occupant* viewer) const {
  return room.config.is_non_anonymous() || (viewer && viewer->role == Role::kModerator);
}

xml::Element MucService::presence_of(const Room& room, const Occupant& o, const Occupant* viewer,
                                     const std::vector<int>& codes) const {
  xml::Element p = o.presence;
  p.set_attr("from", room.jid().with_resource(o.nick).to_string());
  {
    auto& x = p.add_child("x", std::string(kUserNs));
    auto& item = x.add_child("item");
    item.set_attr("affiliation", affiliation_name(affiliation_of(room, o.bare)));
    item.set_attr("role", role_name(o.role));
    if (may_see_jids(room, viewer) && !o.sessions.empty())
      item.set_attr("jid", o.sessions.front().to_string());
    add_codes(x, codes);
  }
  p.add_child("occupant-id", std::string(kOccupantIdNs)).set_attr("id", o.occupant_id);
  return p;
}

xml::Element MucService::unavailable_of(const Room& room, const Occupant& o, const Occupant* viewer,
                                        const Departure& d, bool self) const {
  xml::Element p("presence", ns::kClient);
  p.set_attr("from", room.jid().with_resource(o.nick).to_string());
  p.set_attr("type", "unavailable");
  if (d.presence)
    if (const auto* status = d.presence->child("status")) p.add_child(*status);
  {
    auto& x = p.add_child("x", std::string(kUserNs));
    auto& item = x.add_child("item");
    item.set_attr("affiliation", affiliation_name(affiliation_of(room, o.bare)));
    item.set_attr("role", d.new_nick.empty() ? "none" : role_name(o.role));
    if (may_see_jids(room, viewer) && !o.sessions.empty())
      item.set_attr("jid", o.sessions.front().to_string());
    if (!d.new_nick.empty()) item.set_attr("nick", d.new_nick);
    if (!d.actor_nick.empty()) item.add_child("actor").set_attr("nick", d.actor_nick);
    if (!d.reason.empty()) item.add_child("reason").add_text(d.reason);
    add_codes(x, self ? with_self(d.codes) : d.codes);
    if (d.destroy) x.add_child(*d.destroy);
  }
  p.add_child("occupant-id", std::string(kOccupantIdNs)).set_attr("id", o.occupant_id);
  return p;
}

void MucService::broadcast_presence(Room& room, const Occupant& o, const std::vector<int>& codes,
                                    std::vector<int> self_codes) {
  send_to_occupants(room, [&](const Occupant& viewer) { return presence_of(room, o, &viewer, codes); }, &o);
  std::vector<int> mine = codes;
  mine.insert(mine.end(), self_codes.begin(), self_codes.end());
  send_to_occupant(o, presence_of(room, o, &o, with_self(mine)));
}

void MucService::remove_occupant(Room& room, const std::string& nick, const Departure& departure) {
  auto it = room.occupants().find(nick);
  if (it == room.occupants().end()) return;
  const Occupant gone = std::move(it->second);
  room.occupants().erase(it);
  send_to_occupants(room, [&](const Occupant& viewer) {
    return unavailable_of(room, gone, &viewer, departure, false);
  });
  send_to_occupant(gone, unavailable_of(room, gone, &gone, departure, true));
}

void MucService::leave(Room& room, Occupant& occupant, const xmpp::Jid& session, Departure departure) {
  if (occupant.sessions.size() > 1) {
    // One of several sessions under this nick: only it hears that it left.
    std::erase(occupant.sessions, session);
    xml::Element p = unavailable_of(room, occupant, &occupant, departure, true);
    p.set_attr("to", session.to_string());
    send(std::move(p));
    return;
  }
  remove_occupant(room, occupant.nick, departure);
}

void MucService::drop_session(Room& room, const xmpp::Jid& session) {
  if (Occupant* o = room.occupant_by_session(session)) leave(room, *o, session, Departure::with({333}));
}

void MucService::close_if_empty(const xmpp::Jid& jid) {
  Room* room = find_room(jid);
  if (!room || !room->is_empty() || room->config.persistent) return;
  // §10.1: a temporary room is destroyed with its last occupant, and its
  // archive with it (a new room of that name must not read it).
  if (archives(*room)) drop_archive(*room);
  directory_.set(room->jid().bare_string(), "", false);
  here().rooms.erase(room->jid().bare_string());
}

bool MucService::may_create(const xmpp::Jid& who) const {
  // options_.create is one of the three (read_options checked it).
  if (options_.create == "anyone") return true;
  if (options_.create == "admins") return options_.admins.count(who.bare_string()) > 0;
  return host_.is_local_domain(who.domain());
}

Room& MucService::create_room(const xmpp::Jid& jid, const xmpp::Jid& owner) {
  auto room = std::make_unique<Room>(jid.bare(), sasl::base64_encode(sasl::random_bytes(16)));
  room->config.history_length = options_.default_history;
  room->config.archiving = options_.archive_default;
  room->set_affiliation(owner.bare(), Affiliation::kOwner);
  room->locked = true;
  auto& stored = here().rooms[jid.bare_string()];
  stored = std::move(room);
  return *stored;
}

void MucService::on_presence(Room* room, xml::Element& stanza, const xmpp::Jid& from,
                             const xmpp::Jid& to) {
  const auto type = stanza.attr_or("type");
  Occupant* occupant = room ? room->occupant_by_session(from) : nullptr;
  if (type == "error") {
    if (room) drop_session(*room, from);
    return;
  }
  if (type == "unavailable") {
    if (occupant) leave(*room, *occupant, from, Departure::with({}, &stanza));
    return;
  }
  if (!type.empty()) return;  // subscriptions and probes mean nothing to a room
  if (!to.has_resource()) {
    // §7.2.1: entering needs a nick.
    reply_error(stanza, StanzaError(StanzaCondition::kJidMalformed, ErrorType::kModify));
    return;
  }
  if (!occupant) {
    join(room, stanza, from, to);
  } else if (occupant->nick != to.resource()) {
    change_nick(*room, *occupant, stanza, to);
  } else if (stanza.child("x", kMucNs)) {
    // A join from a session already in the room: its client lost track
    // (XEP-0410 tells clients to rejoin). It gets the room again.
    occupant->presence = clean_presence(stanza);
    send_room_state(*room, *occupant, from, stanza.child("x", kMucNs));
  } else {
    update_presence(*room, *occupant, stanza);
  }
}

void MucService::send_room_state(Room& room, const Occupant& occupant, const xmpp::Jid& session,
                                 const xml::Element* muc_x, std::vector<int> self_codes) {
  for (const auto& [nick, other] : room.occupants()) {
    if (&other == &occupant) continue;
    xml::Element p = presence_of(room, other, &occupant, {});
    p.set_attr("to", session.to_string());
    send(std::move(p));
  }
  if (room.config.is_non_anonymous()) self_codes.insert(self_codes.begin(), 100);
  xml::Element self = presence_of(room, occupant, &occupant, with_self(self_codes));
  self.set_attr("to", session.to_string());
  send(std::move(self));
  send_history_and_subject(room, muc_x, session);
}

void MucService::join(Room* room, xml::Element& stanza, const xmpp::Jid& from, const xmpp::Jid& to) {
  const xml::Element* muc_x = stanza.child("x", kMucNs);
  bool created = false;
  if (!room) {
    if (!may_create(from)) {
      reply_error(stanza, StanzaError(StanzaCondition::kNotAllowed, "room creation is restricted"));
      return;
    }
    room = &create_room(to, from);
    // A client that does not speak MUC (no <x/>) cannot configure the room:
    // it gets an instant room (§7.2.1, groupchat 1.0 compatibility).
    room->locked = muc_x != nullptr;
    created = true;
    if (!room->locked) publish(*room);
  }
  const Affiliation affiliation = affiliation_of(*room, from);
  if (room->locked && affiliation != Affiliation::kOwner) {
    // §10.1.1: a room being created is not there for anyone else yet.
    reply_error(stanza, StanzaError(StanzaCondition::kItemNotFound));
    return;
  }
  if (affiliation == Affiliation::kOutcast) {
    reply_error(stanza, StanzaError(StanzaCondition::kForbidden, ErrorType::kAuth));
    return;
  }
  Occupant* same_nick = room->occupant_by_nick(to.resource());
  if ((same_nick && same_nick->bare != from.bare()) || is_reserved_for_another(*room, to.resource(), from)) {
    reply_error(stanza, StanzaError(StanzaCondition::kConflict));
    return;
  }
  if (room->config.members_only && affiliation < Affiliation::kMember) {
    reply_error(stanza, StanzaError(StanzaCondition::kRegistrationRequired, ErrorType::kAuth));
    return;
  }
  if (room->config.password_protected && affiliation < Affiliation::kAdmin &&
      (!muc_x || muc_x->child_text("password", kMucNs) != room->config.password)) {
    reply_error(stanza, StanzaError(StanzaCondition::kNotAuthorized, ErrorType::kAuth));
    return;
  }
  if (!same_nick && room->config.max_users > 0 && affiliation < Affiliation::kAdmin &&
      room->occupants().size() >= static_cast<std::size_t>(room->config.max_users)) {
    reply_error(stanza, StanzaError(StanzaCondition::kServiceUnavailable, ErrorType::kWait));
    return;
  }

  if (same_nick) {
    // Another session of the same account under the same nick: it hears
    // the room as a new occupant would; the others see nothing new.
    same_nick->sessions.push_back(from);
    send_room_state(*room, *same_nick, from, muc_x);
    return;
  }
  std::vector<int> self_codes;
  if (room->config.is_non_anonymous()) self_codes.push_back(100);
  if (created) self_codes.push_back(201);

  Occupant o;
  o.nick = to.resource();
  o.bare = from.bare();
  o.sessions = {from};
  o.role = default_role(affiliation, room->config);
  o.presence = clean_presence(stanza);
  o.occupant_id = room->occupant_id_for(o.bare);
  // §7.2.3: first the others' presence to the newcomer, then the
  // newcomer's to everyone, its own copy last among them (110).
  for (const auto& [nick, other] : room->occupants()) {
    xml::Element p = presence_of(*room, other, &o, {});
    p.set_attr("to", from.to_string());
    send(std::move(p));
  }
  Occupant& joined = room->add_occupant(std::move(o));
  send_to_occupants(*room, [&](const Occupant& viewer) { return presence_of(*room, joined, &viewer, {}); },
                    &joined);
  send_to_occupant(joined, presence_of(*room, joined, &joined, with_self(self_codes)));
  if (!created) send_history_and_subject(*room, muc_x, from);
  else send_history_and_subject(*room, nullptr, from);
}

void MucService::send_history_and_subject(Room& room, const xml::Element* muc_x, const xmpp::Jid& to) {
  const auto request = parse_history_request(muc_x ? muc_x->child("history", kMucNs) : nullptr);
  const auto now = std::chrono::system_clock::now();
  for (const HistoryEntry* entry : room.history.select(request, now)) {
    xml::Element m = entry->stanza;
    m.set_attr("to", to.to_string());
    xmpp::add_delay(m, room.jid().bare_string(), entry->at);
    send(std::move(m));
  }
  // §7.2.15: the subject comes last, empty when there is none, and
  // tells the client that the room's history is complete.
  xml::Element subject("message", ns::kClient);
  subject.set_attr("type", "groupchat");
  subject.set_attr("from", room.subject_nick.empty()
                               ? room.jid().bare_string()
                               : room.jid().with_resource(room.subject_nick).to_string());
  subject.set_attr("to", to.to_string());
  subject.set_attr("id", "subject-" + sasl::base64_encode(sasl::random_bytes(6)));
  subject.add_child("subject").add_text(room.subject);
  send(std::move(subject));
}

void MucService::update_presence(Room& room, Occupant& occupant, const xml::Element& stanza) {
  occupant.presence = clean_presence(stanza);
  broadcast_presence(room, occupant, {});
}

void MucService::change_nick(Room& room, Occupant& occupant, const xml::Element& stanza,
                             const xmpp::Jid& to) {
  const std::string new_nick = to.resource();
  if (room.occupant_by_nick(new_nick) || is_reserved_for_another(room, new_nick, occupant.bare)) {
    reply_error(stanza, StanzaError(StanzaCondition::kConflict));
    return;
  }
  // §7.6: unavailable from the old nick with 303 and the new nick, then
  // available from the new one.
  Departure d;
  d.codes = {303};
  d.new_nick = new_nick;
  send_to_occupants(room, [&](const Occupant& viewer) { return unavailable_of(room, occupant, &viewer, d, false); },
                    &occupant);
  send_to_occupant(occupant, unavailable_of(room, occupant, &occupant, d, true));
  Occupant& renamed = room.rename_occupant(occupant.nick, new_nick);
  renamed.presence = clean_presence(stanza);
  broadcast_presence(room, renamed, {});
}

}  // namespace tern::modules::muc
