// The owner's iq (XEP-0045 §10): the room configuration form, instant and
// reserved rooms, and room destruction.
#include "modules/adhoc/data_form.h"
#include "modules/muc/config_form.h"
#include "modules/muc/service.h"

namespace tern::modules::muc {

using xmpp::ErrorType;
using xmpp::StanzaCondition;
using xmpp::StanzaError;

void MucService::on_owner(Room& room, const xml::Element& iq, const xml::Element& query,
                          const xmpp::Jid& from) {
  if (affiliation_of(room, from) != Affiliation::kOwner) {
    reply_error(iq, StanzaError(StanzaCondition::kForbidden, ErrorType::kAuth));
    return;
  }
  if (iq.attr_or("type") == "get") {
    auto reply = xmpp::make_iq_result(iq);
    reply.add_child("query", std::string(kOwnerNs)).add_child(config_form(room.config, options_.max_history));
    send(std::move(reply));
    return;
  }
  if (const auto* destroy = query.child("destroy")) {
    send(xmpp::make_iq_result(iq));
    destroy_room(room, destroy);  // `room` is gone now
    return;
  }
  const auto* x = query.child("x", adhoc::kDataFormsNs);
  if (!x) {
    reply_error(iq, StanzaError(StanzaCondition::kBadRequest, ErrorType::kModify));
    return;
  }
  if (x->attr_or("type") == "cancel") {
    send(xmpp::make_iq_result(iq));
    // §10.1.3: cancelling the first configuration cancels the room.
    if (room.locked) destroy_room(room, nullptr);
    return;
  }
  const RoomConfig before = room.config;
  if (auto why = apply_config_form(*x, room.config, options_.max_history)) {
    reply_error(iq, StanzaError(StanzaCondition::kNotAcceptable, ErrorType::kModify, *why));
    return;
  }
  const bool was_locked = room.locked;
  room.locked = false;
  room.history.trim(static_cast<std::size_t>(room.config.history_length));
  send(xmpp::make_iq_result(iq));

  // §10.2.1: occupants hear that the configuration changed.
  std::vector<int> codes;
  if (!was_locked) codes.push_back(104);
  if (before.whois != room.config.whois) codes.push_back(room.config.is_non_anonymous() ? 172 : 173);
  if (!codes.empty()) notify_all(room, codes);
  if (room.config.members_only && !before.members_only) {
    // §9.3: a room turned members-only loses its non-members (322).
    std::vector<std::string> out;
    for (const auto& [nick, o] : room.occupants())
      if (affiliation_of(room, o.bare) < Affiliation::kMember) out.push_back(nick);
    for (const auto& nick : out) remove_occupant(room, nick, Departure::with({322}));
  }
  if (before.moderated && !room.config.moderated) {
    // An unmoderated room has no visitors: everyone gets voice.
    for (auto& [nick, o] : room.occupants()) {
      if (o.role != Role::kVisitor) continue;
      o.role = Role::kParticipant;
      broadcast_presence(room, o, {});
    }
  }
  if (room.config.persistent) {
    save(room);
  } else if (before.persistent) {
    forget(room);
  }
  publish(room);
}

void MucService::destroy_room(Room& room, const xml::Element* request) {
  // §10.9: every occupant gets its unavailable presence with the reason
  // and the alternate venue, if any.
  xml::Element destroy("destroy", std::string(kUserNs));
  if (request) {
    if (auto jid = request->attr("jid")) destroy.set_attr("jid", *jid);
    if (const auto* reason = request->child("reason")) destroy.add_child("reason").add_text(reason->text());
  }
  Departure d;
  d.destroy = &destroy;
  for (const auto& [nick, o] : room.occupants()) send_to_occupant(o, unavailable_of(room, o, &o, d, true));
  room.occupants().clear();
  if (room.config.persistent) forget(room);
  drop_archive(room);
  directory_.set(room.jid().bare_string(), "", false);
  here().rooms.erase(room.jid().bare_string());
}

}  // namespace tern::modules::muc
