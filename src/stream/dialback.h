// Server dialback (XEP-0220): the key an originating server hands out and
// later vouches for, and the <db:result/>/<db:verify/> elements as values.
// Pure functions: the streams (server_in, server_out) do the talking.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "xml/element.h"

namespace tern::stream {

inline constexpr const char* kDialbackNs = "jabber:server:dialback";
// XEP-0288: the request and the stream feature.
inline constexpr const char* kBidiNs = "urn:xmpp:bidi";
inline constexpr const char* kBidiFeatureNs = "urn:xmpp:features:bidi";
inline constexpr const char* kDialbackFeatureNs = "urn:xmpp:features:dialback";

// §2.1.2: HMAC-SHA256(hex(SHA256(secret)), receiving ' ' originating ' '
// stream id), in lowercase hex.
std::string dialback_key(std::string_view secret, std::string_view receiving,
                         std::string_view originating, std::string_view stream_id);

// Compares two keys in time independent of where they differ.
bool keys_equal(std::string_view a, std::string_view b);

// A <db:result/> or <db:verify/> as received.
struct DialbackMessage {
  enum class Kind { kResult, kVerify } kind;
  std::string from, to, id;  // id: db:verify only
  std::string type;          // empty for a request; "valid", "invalid", "error"
  std::string key;           // the character data of a request
};

// nullopt when `el` is not a well-formed dialback element (missing from/to,
// a request without a key, a db:verify without id).
std::optional<DialbackMessage> parse_dialback(const xml::Element& el);

// Serialised answers, with the db: prefix the stream header declares.
std::string dialback_request(const DialbackMessage& m);
std::string dialback_answer(DialbackMessage::Kind kind, std::string_view from, std::string_view to,
                            std::string_view id, std::string_view type);
// type='error' with a stanza error condition (§2.4), e.g. "item-not-found".
std::string dialback_error(DialbackMessage::Kind kind, std::string_view from, std::string_view to,
                           std::string_view id, std::string_view condition);

}  // namespace tern::stream
