// XEP-0363 HTTP File Upload, the parts without state: reading a slot
// request, checking file names and types, the URLs and the PUT token of a
// slot, and the metadata file kept beside each upload. Pure functions, so
// the unit tests and the fuzz target take them without the server.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "xml/element.h"
#include "xmpp/errors.h"

namespace tern::modules::upload {

inline constexpr const char* kUploadNs = "urn:xmpp:http:upload:0";

// What a client asks for (§4).
struct SlotRequest {
  std::string filename;
  std::uint64_t size = 0;
  std::string content_type;  // empty: not given
};

// Why a request is refused, before any policy (size, quota) is applied.
struct BadRequest {
  xmpp::StanzaCondition condition;
  std::string text;
};

// Reads <request xmlns='urn:xmpp:http:upload:0' filename size content-type/>.
std::variant<SlotRequest, BadRequest> parse_slot_request(const xml::Element& request);

// A file name we store and put in a URL: 1..255 bytes of valid UTF-8, no
// '/', '\\', control characters, and not "." or "..".
bool is_acceptable_filename(std::string_view name);
// A media type "type/subtype" with optional parameters, printable ASCII,
// at most 255 bytes.
bool is_acceptable_content_type(std::string_view type);

// A slot id: 128 random bits as 32 lowercase hex digits.
std::string make_slot_id();
bool is_slot_id(std::string_view id);

// The Authorization header value a PUT to the slot must carry: "Bearer "
// and an HMAC-SHA256 under the server's secret of the slot id, size and
// type, so that the GET URL alone cannot be used to upload.
std::string put_authorization(std::string_view secret, std::string_view id, std::uint64_t size,
                              std::string_view content_type);
// Compares in constant time.
bool is_authorized(std::string_view secret, std::string_view header, std::string_view id,
                   std::uint64_t size, std::string_view content_type);

// "<base>/<id>/<url-encoded name>"; `base` ends without '/'.
std::string slot_url(std::string_view base, std::string_view id, std::string_view filename);

// The URL path of an upload split in its id and decoded file name
// ("/upload/<id>/<name>" after the route's prefix); nullopt when it is not
// one (wrong id, extra segments, a name we would not accept).
struct UploadPath {
  std::string id;
  std::string filename;
};
std::optional<UploadPath> parse_upload_path(std::string_view after_prefix);

// The metadata file beside an upload.
struct FileMeta {
  std::string owner;  // bare JID
  std::string filename;
  std::uint64_t size = 0;
  std::string content_type;
  std::int64_t created = 0;  // Unix seconds
};
std::string to_meta_text(const FileMeta& meta);
std::optional<FileMeta> parse_meta_text(std::string_view text);

// The <slot/> answer.
xml::Element slot_element(const std::string& put_url, const std::string& get_url,
                          const std::string& authorization);

}  // namespace tern::modules::upload
