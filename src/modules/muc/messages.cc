// Messages to a room (XEP-0045 §7.4-7.5, §7.8, §8.1): groupchat fan-out and
// history, subject changes, private messages between occupants, mediated
// invitations and their declines.
#include <chrono>

#include "modules/mam/policy.h"
#include "modules/muc/service.h"
#include "sasl/mechanism.h"
#include "xmpp/namespaces.h"

namespace tern::modules::muc {

using xmpp::ErrorType;
using xmpp::StanzaCondition;
using xmpp::StanzaError;

namespace {

// A client may not speak for the room: what it claims as the room's own
// payload (status codes, occupant ids) goes before the room adds its own.
void strip_room_payload(xml::Element& m, const std::string& room) {
  while (m.remove_child("occupant-id", kOccupantIdNs)) {
  }
  while (m.remove_child("x", kUserNs)) {
  }
  // XEP-0359 §3: the room's stanza-ids are the room's to give.
  mam::remove_stanza_ids(m, room);
}

}  // namespace

void MucService::on_message(Room* room, xml::Element& stanza, const xmpp::Jid& from,
                            const xmpp::Jid& to) {
  const auto type = stanza.attr_or("type", "normal");
  if (type == "error") {
    // An occupant's client (or its server) refused what the room sent.
    if (room) drop_session(*room, from);
    return;
  }
  if (!room || room->locked) {
    reply_error(stanza, StanzaError(StanzaCondition::kItemNotFound));
    return;
  }
  Occupant* sender = room->occupant_by_session(from);
  if (to.has_resource()) {
    if (!sender) {
      reply_error(stanza, StanzaError(StanzaCondition::kNotAcceptable, ErrorType::kModify));
      return;
    }
    private_message(*room, *sender, stanza, to);
    return;
  }
  if (const auto* x = stanza.child("x", kUserNs); x && (x->child("invite") || x->child("decline"))) {
    invite(*room, sender, stanza, from);
    return;
  }
  if (type != "groupchat") {
    if (auto form = voice_request_form(stanza)) {
      on_voice_request(*room, sender, stanza, *form);
      return;
    }
    reply_error(stanza, StanzaError(StanzaCondition::kBadRequest, ErrorType::kModify));
    return;
  }
  if (!sender) {
    // §7.4: only occupants speak in a room.
    reply_error(stanza, StanzaError(StanzaCondition::kNotAcceptable, ErrorType::kModify));
    return;
  }
  groupchat(*room, *sender, stanza);
}

void MucService::groupchat(Room& room, Occupant& sender, xml::Element& stanza) {
  if (sender.role < Role::kParticipant) {
    // §7.4: visitors of a moderated room have no voice.
    reply_error(stanza, StanzaError(StanzaCondition::kForbidden, ErrorType::kAuth));
    return;
  }
  const bool has_body = stanza.child("body") != nullptr;
  const xml::Element* subject = stanza.child("subject");
  if (subject && !has_body) {
    // §8.1: a subject change, for moderators, or everyone if configured.
    if (sender.role != Role::kModerator && !room.config.occupants_change_subject) {
      reply_error(stanza, StanzaError(StanzaCondition::kForbidden, ErrorType::kAuth));
      return;
    }
    room.subject = subject->text();
    room.subject_nick = sender.nick;
    save(room);
  }
  xml::Element m = std::move(stanza);
  strip_room_payload(m, room.jid().bare_string());
  m.remove_attr("to");
  m.set_attr("from", room.jid().with_resource(sender.nick).to_string());
  m.add_child("occupant-id", std::string(kOccupantIdNs)).set_attr("id", sender.occupant_id);
  // Archived before it goes out, so that everyone gets the stanza-id.
  const std::int64_t archive_id = archive_message(room, sender.bare, m);
  send_to_occupants(room, m);
  // XEP-0424: the retraction goes to everyone like any message (clients
  // check it comes from the same occupant); the archive keeps a tombstone.
  if (auto retracted = retracted_id(m)) retract(room, sender, *retracted, archive_id);
  // History keeps what was said (and subject changes are the subject's
  // business): chat states and other bodiless messages pass by.
  if (has_body && room.config.history_length > 0)
    room.history.push(std::move(m), std::chrono::system_clock::now(),
                      static_cast<std::size_t>(room.config.history_length));
}

void MucService::private_message(Room& room, Occupant& sender, xml::Element& stanza,
                                 const xmpp::Jid& to) {
  if (stanza.attr_or("type", "normal") == "groupchat") {
    reply_error(stanza, StanzaError(StanzaCondition::kBadRequest, ErrorType::kModify));
    return;
  }
  Occupant* target = room.occupant_by_nick(to.resource());
  if (!target) {
    reply_error(stanza, StanzaError(StanzaCondition::kItemNotFound));
    return;
  }
  xml::Element m = std::move(stanza);
  strip_room_payload(m, room.jid().bare_string());
  m.set_attr("from", room.jid().with_resource(sender.nick).to_string());
  // §7.5: marked as coming through the room (clients and carbons use it).
  m.add_child("x", std::string(kUserNs));
  m.add_child("occupant-id", std::string(kOccupantIdNs)).set_attr("id", sender.occupant_id);
  send_to_occupant(*target, m);
}

void MucService::invite(Room& room, Occupant* sender, const xml::Element& stanza,
                        const xmpp::Jid& from) {
  const auto* x = stanza.child("x", kUserNs);
  if (const auto* decline = x->child("decline")) {
    // §7.8.2: passed on to the inviter, from the room.
    auto to = xmpp::Jid::parse(decline->attr_or("to"));
    if (!to) {
      reply_error(stanza, StanzaError(StanzaCondition::kJidMalformed, ErrorType::kModify));
      return;
    }
    xml::Element m("message", ns::kClient);
    m.set_attr("from", room.jid().bare_string());
    m.set_attr("to", to->to_string());
    auto& mx = m.add_child("x", std::string(kUserNs));
    auto& d = mx.add_child("decline");
    d.set_attr("from", from.bare_string());
    if (const auto* reason = decline->child("reason")) d.add_child(*reason);
    send(std::move(m));
    return;
  }
  if (!sender) {
    reply_error(stanza, StanzaError(StanzaCondition::kNotAcceptable, ErrorType::kModify));
    return;
  }
  const Affiliation inviter = affiliation_of(room, from);
  // §7.8.1: in a members-only room only admins invite, unless occupants
  // may; an invitation there makes the invitee a member.
  if (room.config.members_only && inviter < Affiliation::kAdmin && !room.config.allow_invites) {
    reply_error(stanza, StanzaError(StanzaCondition::kForbidden, ErrorType::kAuth));
    return;
  }
  for (const auto* inv : x->children()) {
    if (inv->name() != "invite") continue;
    auto to = xmpp::Jid::parse(inv->attr_or("to"));
    if (!to) {
      reply_error(stanza, StanzaError(StanzaCondition::kJidMalformed, ErrorType::kModify));
      return;
    }
    if (room.config.members_only && room.affiliation_of(*to) < Affiliation::kMember &&
        room.affiliation_of(*to) != Affiliation::kOutcast) {
      room.set_affiliation(to->bare(), Affiliation::kMember);
      save(room);
    }
    xml::Element m("message", ns::kClient);
    m.set_attr("from", room.jid().bare_string());
    m.set_attr("to", to->to_string());
    if (auto id = stanza.attr("id")) m.set_attr("id", *id);
    {
      auto& mx = m.add_child("x", std::string(kUserNs));
      auto& i = mx.add_child("invite");
      // §7.8.2: the invitee learns who invites them (the real JID).
      i.set_attr("from", from.to_string());
      if (const auto* reason = inv->child("reason")) i.add_child(*reason);
      if (room.config.password_protected) mx.add_child("password").add_text(room.config.password);
    }
    m.add_child("body").add_text(from.bare_string() + " invites you to the room " + room.jid().bare_string());
    send(std::move(m));
  }
}

void MucService::notify_all(Room& room, const std::vector<int>& codes) {
  xml::Element m("message", ns::kClient);
  m.set_attr("type", "groupchat");
  m.set_attr("from", room.jid().bare_string());
  // Each notice its own id: two config changes are two messages, not a
  // duplicate delivery.
  m.set_attr("id", "notice-" + sasl::base64_encode(sasl::random_bytes(6)));
  auto& x = m.add_child("x", std::string(kUserNs));
  for (int code : codes) x.add_child("status").set_attr("code", std::to_string(code));
  send_to_occupants(room, m);
}

}  // namespace tern::modules::muc
