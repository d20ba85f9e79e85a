#include "stream/dialback.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "core/hex.h"
#include "xml/serializer.h"

namespace tern::stream {
namespace {

std::string to_hex(const unsigned char* data, std::size_t n) {
  return core::to_hex(std::string_view(reinterpret_cast<const char*>(data), n));
}

std::string trim(std::string_view s) {
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return std::string(s);
}

const char* element_name(DialbackMessage::Kind kind) {
  return kind == DialbackMessage::Kind::kResult ? "db:result" : "db:verify";
}

void open_tag(std::string& out, DialbackMessage::Kind kind, std::string_view from,
              std::string_view to, std::string_view id, std::string_view type) {
  out += '<';
  out += element_name(kind);
  out += " from='";
  xml::append_escaped_attr(out, from);
  out += "' to='";
  xml::append_escaped_attr(out, to);
  out += '\'';
  if (!id.empty()) {
    out += " id='";
    xml::append_escaped_attr(out, id);
    out += '\'';
  }
  if (!type.empty()) {
    out += " type='";
    xml::append_escaped_attr(out, type);
    out += '\'';
  }
}

}  // namespace

std::string dialback_key(std::string_view secret, std::string_view receiving,
                         std::string_view originating, std::string_view stream_id) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), digest);
  std::string hmac_key = to_hex(digest, sizeof digest);
  std::string data;
  data.reserve(receiving.size() + originating.size() + stream_id.size() + 2);
  data.append(receiving).append(" ").append(originating).append(" ").append(stream_id);
  unsigned char mac[EVP_MAX_MD_SIZE];
  size_t mac_len = 0;
  if (!EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, hmac_key.data(), hmac_key.size(),
                 reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, sizeof mac,
                 &mac_len))
    return {};
  return to_hex(mac, mac_len);
}

bool keys_equal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && !a.empty() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::optional<DialbackMessage> parse_dialback(const xml::Element& el) {
  if (el.ns() != kDialbackNs) return std::nullopt;
  DialbackMessage m;
  if (el.name() == "result") {
    m.kind = DialbackMessage::Kind::kResult;
  } else if (el.name() == "verify") {
    m.kind = DialbackMessage::Kind::kVerify;
  } else {
    return std::nullopt;
  }
  m.from = std::string(el.attr_or("from"));
  m.to = std::string(el.attr_or("to"));
  m.id = std::string(el.attr_or("id"));
  m.type = std::string(el.attr_or("type"));
  m.key = trim(el.text());
  if (m.from.empty() || m.to.empty()) return std::nullopt;
  if (m.kind == DialbackMessage::Kind::kVerify && m.id.empty()) return std::nullopt;
  if (m.type.empty() && m.key.empty()) return std::nullopt;
  return m;
}

std::string dialback_request(const DialbackMessage& m) {
  std::string out;
  open_tag(out, m.kind, m.from, m.to, m.kind == DialbackMessage::Kind::kVerify ? m.id : "", {});
  out += '>';
  xml::append_escaped_text(out, m.key);
  out += "</";
  out += element_name(m.kind);
  out += '>';
  return out;
}

std::string dialback_answer(DialbackMessage::Kind kind, std::string_view from, std::string_view to,
                            std::string_view id, std::string_view type) {
  std::string out;
  open_tag(out, kind, from, to, id, type);
  out += "/>";
  return out;
}

std::string dialback_error(DialbackMessage::Kind kind, std::string_view from, std::string_view to,
                           std::string_view id, std::string_view condition) {
  std::string out;
  open_tag(out, kind, from, to, id, "error");
  out += "><error type='cancel'><";
  out += condition;
  out += " xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></";
  out += element_name(kind);
  out += '>';
  return out;
}

}  // namespace tern::stream
