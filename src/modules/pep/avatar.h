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

}  // namespace tern::modules::pep::avatar
