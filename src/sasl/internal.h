// Private to src/sasl/ and its tests: the primitives the mechanisms are built
// from. Not part of the interface other layers program against.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "sasl/mechanism.h"

namespace tern::sasl::internal {

// Output size of H() for the hash: 20 for SHA-1, 32 for SHA-256.
std::size_t hash_size(Hash h);
// H(data).
std::string digest(Hash h, std::string_view data);
// HMAC(key, data).
std::string hmac(Hash h, std::string_view key, std::string_view data);
// Hi(password, salt, i) of RFC 5802 §2.2 (PBKDF2 with HMAC-H); empty when
// the parameters are unusable (iterations < 1).
std::string salted_password(Hash h, std::string_view password, std::string_view salt,
                            int iterations);
// a XOR b; both must have the same size.
std::string xor_bytes(std::string_view a, std::string_view b);
// Equality that takes the same time wherever the inputs differ.
bool constant_time_equal(std::string_view a, std::string_view b);

// Well-formed UTF-8 (RFC 3629: no overlongs, no surrogates, ≤ U+10FFFF) that
// contains no NUL, so it can be handed to C string APIs unchanged.
bool is_utf8_without_nul(std::string_view s);

// SASLprep treating the input as a "query" (unassigned code points allowed),
// which is what RFC 5802 §5.1 and RFC 4616 §4 ask of a server checking a
// presented username or password. nullopt when preparation fails.
std::optional<std::string> saslprep_query(std::string_view s);

// The mechanisms behind make_mechanism().
std::unique_ptr<Mechanism> make_scram(Hash h, bool plus, Context ctx);
std::unique_ptr<Mechanism> make_plain(PlainVerifier verifier);
// cb_type: "" (NONE), "tls-unique", "tls-server-end-point" or "tls-exporter".
std::unique_ptr<Mechanism> make_ht(Hash hash, std::string cb_type, Context ctx);

}  // namespace tern::sasl::internal
