// User avatars in PEP (XEP-0084) and in the vCard (XEP-0153), kept in step
// as XEP-0398 describes: an avatar published through PEP becomes the
// vCard's PHOTO, and a vCard PHOTO is published through PEP (data and
// metadata, id = SHA-1 of the image). These are the pure conversions;
// avatar_sync.cc does the storage work.
#pragma once

#include <optional>
#include <string>

#include "xml/element.h"

namespace tern::modules::pep::avatar {

inline constexpr const char* kDataNode = "urn:xmpp:avatar:data";
inline constexpr const char* kMetadataNode = "urn:xmpp:avatar:metadata";
inline constexpr const char* kVcardNs = "vcard-temp";
inline constexpr const char* kVcardKey = "vcard";  // the vcard module's document

struct Photo {
  std::string type;    // MIME type, e.g. image/png
  std::string base64;  // without whitespace
};

// The first <info/> of a metadata payload: (id, type); nullopt when the
// avatar is switched off (<metadata/> without <info/>).
std::optional<std::pair<std::string, std::string>> metadata_info(const xml::Element& metadata);
xml::Element metadata_for(const std::string& id, const std::string& type, std::size_t bytes);
xml::Element data_for(const std::string& base64);

std::optional<Photo> photo_of(const xml::Element& vcard);
// The vCard (or a new one) with its PHOTO replaced (or removed when
// `photo` is nullopt).
xml::Element with_photo(std::optional<xml::Element> vcard, const std::optional<Photo>& photo);

// Lower-case hex SHA-1 of the decoded image: the XEP-0084 item id.
std::optional<std::string> image_id(const std::string& base64, std::size_t* bytes = nullptr);

// XEP-0153 §3.2 / XEP-0398 §4: the <x xmlns='vcard-temp:x:update'/> of an
// account's available presence, as the server sends it on.
inline constexpr const char* kUpdateNs = "vcard-temp:x:update";

// The photo hash of a stored vCard (its serialized XML): the SHA-1 of its
// PHOTO, or nullopt when it has none (or does not parse).
std::optional<std::string> vcard_photo_hash(const std::string& vcard_xml);

// Puts the account's photo hash into an available presence (XEP-0398 §4):
// a client's empty <photo/> ("no avatar, or not telling") is left alone;
// an <x/> without <photo/> is completed; no <x/> gets one; a different
// hash is overwritten (§4 allows it; the server's vCard is the truth).
// With no avatar (`hash` nullopt), only an <x/> without <photo/> is
// completed (with an empty one) and a photo equal to `stale` (the hash
// the server put there before the avatar went) is emptied.
void apply_photo_hash(xml::Element& presence, const std::optional<std::string>& hash,
                      const std::optional<std::string>& stale = std::nullopt);

}  // namespace tern::modules::pep::avatar
