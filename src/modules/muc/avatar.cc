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
#include <openssl/evp.h>

#include <algorithm>
#include <cctype>

#include "core/hex.h"
#include "modules/muc/service.h"
#include "sasl/mechanism.h"
#include "xml/parse_element.h"

namespace tern::modules::muc {

using xmpp::ErrorType;
using xmpp::StanzaCondition;
using xmpp::StanzaError;

namespace {

std::string without_space(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text)
    if (!std::isspace(static_cast<unsigned char>(c))) out += c;
  return out;
}

std::string sha1_hex(std::string_view bytes) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), out, &len, EVP_sha1(), nullptr);
  return core::to_hex(std::string_view(reinterpret_cast<const char*>(out), len));
}

}  // namespace

std::variant<std::optional<RoomAvatar>, StanzaError> read_avatar(const xml::Element& vcard,
                                                                  std::size_t max_bytes) {
  RoomAvatar avatar{xml::Element("vCard", std::string(kVcardNs)), {}};
  std::size_t total = 0;
  for (const xml::Element* photo : vcard.children()) {
    if (photo->name() != "PHOTO" || photo->ns() != kVcardNs) continue;
    const std::string base64 = without_space(photo->child_text("BINVAL", kVcardNs));
    auto image = sasl::base64_decode(base64);
    if (!image || image->empty())
      return StanzaError(StanzaCondition::kBadRequest, ErrorType::kModify,
                         "a room's PHOTO needs its image in BINVAL (base64)");
    total += image->size();
    if (total > max_bytes)
      return StanzaError(StanzaCondition::kNotAcceptable, ErrorType::kModify,
                         "avatar larger than " + std::to_string(max_bytes) + " bytes");
    auto& kept = avatar.vcard.add_child("PHOTO");
    if (auto type = photo->child_text("TYPE", kVcardNs); !type.empty()) kept.add_child("TYPE").add_text(type);
    kept.add_child("BINVAL").add_text(base64);
    avatar.hashes.push_back(sha1_hex(*image));
  }
  if (avatar.hashes.empty()) return std::optional<RoomAvatar>();
  return std::optional<RoomAvatar>(std::move(avatar));
}

std::optional<RoomAvatar> stored_avatar(const std::string& vcard_xml) {
  if (vcard_xml.empty()) return std::nullopt;
  auto vcard = xml::parse_element(vcard_xml);
  if (!vcard) return std::nullopt;
  // What was stored was accepted under some limit; reading it back is not
  // the place to apply today's.
  auto read = read_avatar(*vcard, static_cast<std::size_t>(-1));
  auto* avatar = std::get_if<std::optional<RoomAvatar>>(&read);
  return avatar ? std::move(*avatar) : std::nullopt;
}

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
