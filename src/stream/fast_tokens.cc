#include "stream/fast_tokens.h"

#include <algorithm>
#include <charconv>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/hex.h"
#include "xml/element.h"
#include "xml/parse_element.h"
#include "xml/serializer.h"
#include "xmpp/namespaces.h"

namespace tern::stream {
namespace {

std::string hmac256(const std::string& key, const std::string& data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<const char*>(out), len);
}

std::string labelled(std::string_view label, const std::string& a, const std::string& b = {}) {
  std::string s(label);
  s += '\0';
  s += a;
  s += '\0';
  s += b;
  return s;
}

std::string xor_mask(const std::string& data, const std::string& mask) {
  std::string out = data;
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<char>(out[i] ^ mask[i % mask.size()]);
  return out;
}

std::optional<std::string> from_hex(std::string_view hex) {
  if (hex.size() % 2) return std::nullopt;
  std::string out;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    unsigned v = 0;
    auto [p, ec] = std::from_chars(hex.data() + i, hex.data() + i + 2, v, 16);
    if (ec != std::errc() || p != hex.data() + i + 2) return std::nullopt;
    out += static_cast<char>(v);
  }
  return out;
}

std::string token_mask(const std::string& secret, const std::string& key, std::int64_t expiry) {
  return hmac256(secret, labelled("fast-mask", key, std::to_string(expiry)));
}

}  // namespace

std::string fast_document_key(const std::string& secret, const std::string& user_agent_id) {
  return "fast:" + core::to_hex(hmac256(secret, labelled("fast-client", user_agent_id)).substr(0, 16));
}

std::string fast_credentials_tag(const std::string& secret, const sasl::ScramCredentials& c) {
  return core::to_hex(hmac256(secret, labelled("fast-credentials", c.stored_key, c.server_key)).substr(0, 16));
}

std::string encode_fast_tokens(const FastTokenSet& set, const std::string& secret,
                               const std::string& key) {
  xml::Element doc("fast", "urn:xmpp:fast:0");
  doc.set_attr("mechanism", set.mechanism);
  doc.set_attr("credentials", set.credentials_tag);
  for (const auto& t : set.tokens) {
    auto& e = doc.add_child("token");
    e.set_attr("expiry", std::to_string(t.expiry));
    e.set_attr("masked", core::to_hex(xor_mask(t.token, token_mask(secret, key, t.expiry))));
  }
  return xml::to_string(doc, "");
}

std::optional<FastTokenSet> decode_fast_tokens(const std::string& text, const std::string& secret,
                                               const std::string& key) {
  auto doc = xml::parse_element(text, ns::kClient);
  if (!doc || doc->name() != "fast" || doc->ns() != "urn:xmpp:fast:0") return std::nullopt;
  FastTokenSet set{std::string(doc->attr_or("mechanism")), std::string(doc->attr_or("credentials")), {}};
  for (const auto* e : doc->children()) {
    if (e->name() != "token") continue;
    std::int64_t expiry = 0;
    auto ex = e->attr_or("expiry");
    auto [p, ec] = std::from_chars(ex.data(), ex.data() + ex.size(), expiry);
    auto masked = from_hex(e->attr_or("masked"));
    if (ec != std::errc() || p != ex.data() + ex.size() || !masked || masked->empty()) continue;
    set.tokens.push_back({xor_mask(*masked, token_mask(secret, key, expiry)), expiry});
  }
  std::sort(set.tokens.begin(), set.tokens.end(),
            [](const FastToken& a, const FastToken& b) { return a.expiry < b.expiry; });
  return set;
}

std::vector<std::string> usable_fast_tokens(const FastTokenSet& set, const std::string& mechanism,
                                            const std::string& credentials_tag, std::int64_t now) {
  std::vector<std::string> out;
  if (set.mechanism != mechanism || set.credentials_tag != credentials_tag) return out;
  for (const auto& t : set.tokens)
    if (t.expiry > now) out.push_back(t.token);
  return out;
}

FastRotation rotate_fast_tokens(std::optional<FastTokenSet> stored, const FastSuccess& s,
                                std::string new_token) {
  FastTokenSet set = stored.value_or(FastTokenSet{});
  std::erase_if(set.tokens, [&](const FastToken& t) { return t.expiry <= s.now; });
  std::optional<FastToken> used;
  for (const auto& t : set.tokens)
    if (!s.used_token.empty() && t.token == s.used_token) used = t;
  if (used) {
    std::erase_if(set.tokens, [&](const FastToken& t) { return t.expiry < used->expiry; });
    if (s.invalidate) std::erase_if(set.tokens, [&](const FastToken& t) { return t.token == used->token; });
  }
  const bool due = used && !s.invalidate && used->expiry - s.now < s.lifetime / 2;
  FastRotation out;
  if (!s.requested.empty() || due) {
    if (used && !s.invalidate) {
      // The one used stays until the new one is used (§3.4); older and
      // newer unused ones go.
      set.tokens = {*used};
    } else {
      set.tokens.clear();
    }
    if (!s.requested.empty()) set.mechanism = s.requested;
    set.credentials_tag = s.credentials_tag;
    std::int64_t expiry = s.now + s.lifetime;
    if (used && expiry <= used->expiry) expiry = used->expiry + 1;
    out.issued = FastToken{std::move(new_token), expiry};
    set.tokens.push_back(*out.issued);
  }
  out.set = std::move(set);
  return out;
}

}  // namespace tern::stream
