// XEP-0484 (FAST) tokens: what is kept per account and client (user-agent
// id), and the rotation rules, free of I/O so they can be tested alone.
//
// The HT mechanisms key an HMAC with the token itself, so the server must be
// able to recover it: tokens cannot be stored as one-way hashes. They are
// stored masked instead (XOR with an HMAC of the server secret), so a copy
// of the database alone yields no usable token. Each set also records a tag
// of the account's credentials when it was issued: a password change makes
// every token of the account unusable, without a hook in every place that
// changes passwords. Account deletion removes them with the account's other
// documents.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sasl/mechanism.h"

namespace tern::stream {

struct FastToken {
  std::string token;   // as given to the client (base64 of 32 random bytes)
  std::int64_t expiry; // unix seconds
};

// One client's tokens: all for one mechanism (a token is bound to it).
struct FastTokenSet {
  std::string mechanism;
  std::string credentials_tag;
  std::vector<FastToken> tokens;  // oldest expiry first
};

// The document key of a client's set: keyed with the server secret, so
// neither the key nor the stored document shows the user-agent id.
std::string fast_document_key(const std::string& secret, const std::string& user_agent_id);
// A tag that changes whenever the account's password does.
std::string fast_credentials_tag(const std::string& secret, const sasl::ScramCredentials& creds);

std::string encode_fast_tokens(const FastTokenSet& set, const std::string& secret,
                               const std::string& document_key);
// nullopt when the document is not a token set of ours.
std::optional<FastTokenSet> decode_fast_tokens(const std::string& doc, const std::string& secret,
                                               const std::string& document_key);

// The tokens that may authenticate now with `mechanism`, for an account
// whose credentials carry `credentials_tag`.
std::vector<std::string> usable_fast_tokens(const FastTokenSet& set, const std::string& mechanism,
                                            const std::string& credentials_tag, std::int64_t now);

// What a successful SASL2 authentication does to the client's set.
struct FastRotation {
  FastTokenSet set;               // to store (no tokens: remove the document)
  std::optional<FastToken> issued;  // to send in <success/>
};
struct FastSuccess {
  std::string used_token;      // the token that authenticated; empty: another mechanism
  bool invalidate = false;     // <fast invalidate='true'/>
  std::string requested;       // <request-token mechanism=…/>; empty: none
  std::string credentials_tag;
  std::int64_t now = 0;
  std::int64_t lifetime = 0;   // seconds
};
// XEP-0484 §3.4–3.5: using a token drops every token of the client that
// expires before it; a token is issued when asked for, or when the one used
// is past half its life (server-initiated rotation), and then the newer
// unused ones go while the used one stays until the new one is used; an
// invalidated token goes at once and brings no new token unless asked.
FastRotation rotate_fast_tokens(std::optional<FastTokenSet> stored, const FastSuccess& success,
                                std::string new_token);

}  // namespace tern::stream
