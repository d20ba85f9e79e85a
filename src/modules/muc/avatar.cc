// Room avatars (XEP-0486 "MUC Avatars"): an owner sets the room's vCard
// (vcard-temp, XEP-0054) with an iq set to the room's bare JID; anyone asks
// for it with an iq get there. The room lists `vcard-temp` and, while it
// has an avatar, `muc#roominfo_avatarhash` (SHA-1 of each image) in its
// disco#info form. A change is announced with the 104 message
// (configuration changed), which makes clients read disco#info again.
//
// XEP-0486 §5.2 describes an older habit, a presence from the room's bare
// JID with vcard-temp:x:update, and advises against it (clients take it
// for an occupant with an empty nick): the room does not send it.
//
// avatar_vcard.cc reads the vCard (pure, fuzzed); this file answers.
#include "modules/muc/service.h"

namespace tern::modules::muc {

using xmpp::ErrorType;
using xmpp::StanzaCondition;
using xmpp::StanzaError;

void MucService::on_vcard(Room& room, const xml::Element& iq, const xml::Element& vcard,
                          const xmpp::Jid& from) {
  if (iq.attr_or("type") == "get") {
    auto reply = xmpp::make_iq_result(iq);
    reply.add_child(room.avatar ? room.avatar->vcard : xml::Element("vCard", std::string(kVcardNs)));
    send(std::move(reply));
    return;
  }
  if (affiliation_of(room, from) != Affiliation::kOwner) {
    reply_error(iq, StanzaError(StanzaCondition::kForbidden, ErrorType::kAuth,
                                "only owners set the room's avatar"));
    return;
  }
  auto read = read_avatar(vcard, options_.avatar_max_bytes);
  if (auto* err = std::get_if<StanzaError>(&read)) {
    reply_error(iq, *err);
    return;
  }
  auto& avatar = std::get<std::optional<RoomAvatar>>(read);
  const bool changed = avatar.has_value() != room.avatar.has_value() ||
                       (avatar && avatar->hashes != room.avatar->hashes);
  room.avatar = std::move(avatar);
  send(xmpp::make_iq_result(iq));
  if (!changed) return;
  save(room);
  // XEP-0486 §3.2: the configuration changed; clients read disco#info again.
  notify_all(room, {104});
}

}  // namespace tern::modules::muc
