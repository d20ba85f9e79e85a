// The room's vCard read for its avatar (XEP-0486): PHOTOs kept, each image
// hashed (SHA-1, as XEP-0153 hashes), sizes bounded. Pure: the service's
// part is avatar.cc; tests/fuzz/muc_avatar_fuzz.cc feeds this file.
#include <openssl/evp.h>

#include <cctype>

#include "core/hex.h"
#include "modules/muc/room.h"
#include "sasl/mechanism.h"
#include "xml/parse_element.h"
#include "xmpp/namespaces.h"

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
  auto vcard = xml::parse_element(vcard_xml, ns::kClient);
  if (!vcard) return std::nullopt;
  // What was stored was accepted under some limit; reading it back is not
  // the place to apply today's.
  auto read = read_avatar(*vcard, static_cast<std::size_t>(-1));
  auto* avatar = std::get_if<std::optional<RoomAvatar>>(&read);
  return avatar ? std::move(*avatar) : std::nullopt;
}

}  // namespace tern::modules::muc
