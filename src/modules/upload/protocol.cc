#include "modules/upload/protocol.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cctype>
#include <charconv>

#include "core/hex.h"
#include "core/percent_encoding.h"
#include "sasl/mechanism.h"

namespace tern::modules::upload {
namespace {

using xmpp::StanzaCondition;

using core::to_hex;

// Well-formed UTF-8 (no overlong forms, no surrogates, at most U+10FFFF).
bool is_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n;
    std::uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3, cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;  // the sequence runs past the end
    for (std::size_t k = 1; k <= n; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr std::uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    // C1 controls and the Unicode line/paragraph separators and bidi
    // overrides: a name must not rewrite how it or its neighbours show.
    if ((cp >= 0x80 && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 ||
        (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069))
      return false;
    i += n + 1;
  }
  return true;
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  static const unsigned char kEmpty = 0;
  const void* key_bytes = key.empty() ? static_cast<const void*>(&kEmpty) : key.data();
  HMAC(EVP_sha256(), key_bytes, static_cast<int>(key.size()),
       data.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(data.data()), data.size(),
       mac, &size);
  return std::string(reinterpret_cast<const char*>(mac), size);
}

}  // namespace

std::variant<SlotRequest, BadRequest> parse_slot_request(const xml::Element& request) {
  if (request.name() != "request" || request.ns() != kUploadNs)
    return BadRequest{StanzaCondition::kBadRequest, "Expected <request xmlns='urn:xmpp:http:upload:0'/>"};
  SlotRequest out;
  auto filename = request.attr("filename");
  auto size = request.attr("size");
  if (!filename || !size)
    return BadRequest{StanzaCondition::kBadRequest, "The filename and size attributes are required"};
  // A size is a plain decimal number: no sign, no spaces, no leading "+".
  const char* first = size->data();
  const char* last = first + size->size();
  auto [end, ec] = std::from_chars(first, last, out.size);
  if (size->empty() || ec != std::errc() || end != last)
    return BadRequest{StanzaCondition::kBadRequest, "The size must be a number of bytes"};
  if (out.size == 0) return BadRequest{StanzaCondition::kBadRequest, "The file is empty"};
  if (!is_acceptable_filename(*filename))
    return BadRequest{StanzaCondition::kNotAcceptable, "That file name is not accepted"};
  out.filename = std::string(*filename);
  if (auto type = request.attr("content-type"); type && !type->empty()) {
    if (!is_acceptable_content_type(*type))
      return BadRequest{StanzaCondition::kBadRequest, "The content-type is not a media type"};
    out.content_type = std::string(*type);
  }
  return out;
}

bool is_acceptable_filename(std::string_view name) {
  if (name.empty() || name.size() > 255 || name == "." || name == "..") return false;
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F || c == '/' || c == '\\') return false;
  }
  return is_utf8(name);
}

bool is_acceptable_content_type(std::string_view type) {
  if (type.empty() || type.size() > 255) return false;
  for (char c : type) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7F) return false;
  }
  // "type/subtype" with token characters, then anything printable.
  auto is_token = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("!#$&-^_.+").find(c) != std::string_view::npos;
  };
  std::size_t i = 0;
  while (i < type.size() && is_token(type[i])) ++i;
  if (i == 0 || i == type.size() || type[i] != '/') return false;
  const std::size_t subtype = ++i;
  while (i < type.size() && is_token(type[i])) ++i;
  if (i == subtype) return false;
  return i == type.size() || type[i] == ';' || type[i] == ' ';
}

std::string make_slot_id() { return to_hex(sasl::random_bytes(16)); }

bool is_slot_id(std::string_view id) {
  if (id.size() != 32) return false;
  for (char c : id)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

std::string put_authorization(std::string_view secret, std::string_view id, std::uint64_t size,
                              std::string_view content_type) {
  std::string data(id);
  data += '\n';
  data += std::to_string(size);
  data += '\n';
  data += content_type;
  return "Bearer " + to_hex(hmac_sha256(secret, data));
}

bool is_authorized(std::string_view secret, std::string_view header, std::string_view id,
                   std::uint64_t size, std::string_view content_type) {
  const std::string expected = put_authorization(secret, id, size, content_type);
  return header.size() == expected.size() &&
         CRYPTO_memcmp(header.data(), expected.data(), expected.size()) == 0;
}

std::string slot_url(std::string_view base, std::string_view id, std::string_view filename) {
  std::string out(base);
  out += '/';
  out += id;
  out += '/';
  out += core::percent_encode(filename);
  return out;
}

std::optional<UploadPath> parse_upload_path(std::string_view after_prefix) {
  const auto slash = after_prefix.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  UploadPath out;
  out.id = std::string(after_prefix.substr(0, slash));
  if (!is_slot_id(out.id)) return std::nullopt;
  auto name = core::percent_decode(after_prefix.substr(slash + 1));
  if (!name || !is_acceptable_filename(*name)) return std::nullopt;
  out.filename = std::move(*name);
  return out;
}

std::string to_meta_text(const FileMeta& meta) {
  // One "key value" per line; the name is percent-encoded, so no value
  // holds a newline.
  using core::percent_encode;
  return "owner " + percent_encode(meta.owner) + "\nname " + percent_encode(meta.filename) +
         "\nsize " + std::to_string(meta.size) + "\ntype " + percent_encode(meta.content_type) +
         "\ncreated " + std::to_string(meta.created) + "\n";
}

std::optional<FileMeta> parse_meta_text(std::string_view text) {
  FileMeta meta;
  bool has_owner = false, has_name = false, has_size = false, has_created = false;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    const auto space = line.find(' ');
    if (space == std::string_view::npos) return std::nullopt;
    const auto key = line.substr(0, space);
    const auto value = line.substr(space + 1);
    auto number = [&](auto& out) {
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), out);
      return ec == std::errc() && end == value.data() + value.size();
    };
    if (key == "owner") {
      auto v = core::percent_decode(value);
      if (!v) return std::nullopt;
      meta.owner = std::move(*v);
      has_owner = true;
    } else if (key == "name") {
      auto v = core::percent_decode(value);
      if (!v || !is_acceptable_filename(*v)) return std::nullopt;
      meta.filename = std::move(*v);
      has_name = true;
    } else if (key == "type") {
      auto v = core::percent_decode(value);
      if (!v) return std::nullopt;
      meta.content_type = std::move(*v);
    } else if (key == "size") {
      if (!number(meta.size)) return std::nullopt;
      has_size = true;
    } else if (key == "created") {
      if (!number(meta.created)) return std::nullopt;
      has_created = true;
    }  // unknown keys: written by a later version, ignored
  }
  if (!has_owner || !has_name || !has_size || !has_created) return std::nullopt;
  return meta;
}

xml::Element slot_element(const std::string& put_url, const std::string& get_url,
                          const std::string& authorization) {
  xml::Element slot("slot", kUploadNs);
  auto& put = slot.add_child("put");
  put.set_attr("url", put_url);
  auto& header = put.add_child("header");
  header.set_attr("name", "Authorization");
  header.add_text(authorization);
  slot.add_child("get").set_attr("url", get_url);
  return slot;
}

}  // namespace tern::modules::upload
