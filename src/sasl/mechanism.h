// Server side of SASL mechanisms (RFC 4422): SCRAM-SHA-1, SCRAM-SHA-256 and
// their -PLUS variants (RFC 5802, RFC 7677, channel bindings RFC 5929 /
// RFC 9266) and PLAIN (RFC 4616). Pure computation: no I/O, no storage — the
// caller looks up credentials through the callbacks below.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tern::sasl {

enum class Hash { kSha1, kSha256 };

// What is stored per account and hash: never the password.
struct ScramCredentials {
  std::string salt;        // raw bytes
  int iterations = 4096;
  std::string stored_key;  // raw bytes: H(ClientKey)
  std::string server_key;  // raw bytes: HMAC(SaltedPassword, "Server Key")
};
// Derives credentials from a password, SASLprep'd here (as a query, RFC 5802
// §2.2; the raw bytes when SASLprep refuses it). iterations < 1 leaves
// stored_key and server_key empty, so they match nothing.
ScramCredentials derive_credentials(Hash h, std::string_view password, std::string_view salt,
                                    int iterations);
std::string random_bytes(std::size_t n);
std::string base64_encode(std::string_view raw);
std::optional<std::string> base64_decode(std::string_view text);  // nullopt if malformed

// SASL failure conditions (RFC 6120 §6.5).
enum class Failure {
  kAborted, kAccountDisabled, kCredentialsExpired, kEncryptionRequired,
  kIncorrectEncoding, kInvalidAuthzid, kInvalidMechanism, kMalformedRequest,
  kMechanismTooWeak, kNotAuthorized, kTemporaryAuthFailure
};
const char* failure_name(Failure f);  // "not-authorized", …

// What the stream provides to a mechanism.
struct Context {
  // username (already SASLprep'd/nodeprep'd by the callback as it sees fit)
  // → credentials for that hash, or nullopt if there is no such user.
  std::function<std::optional<ScramCredentials>(const std::string& username, Hash)> lookup_scram;
  // Channel binding data for "tls-exporter" / "tls-server-end-point", or
  // nullopt when that type is unavailable on this connection.
  std::function<std::optional<std::string>(std::string_view cb_type)> channel_binding;
  // True when the server offered any -PLUS mechanism (for the "y" flag check).
  bool plus_offered = false;
  // SCRAM answers an unknown username with a fake salt so that the exchange
  // does not reveal whether the account exists. The salt is
  // HMAC-SHA-256(fake_salt_secret, username) truncated to 16 bytes: give it a
  // random per-server value that survives restarts (e.g. kept in the data
  // dir); when empty the fake salt is SHA-256("tern-fake-salt" || username)
  // truncated to 16 bytes, which anyone who reads this code can predict.
  std::string fake_salt_secret;
  // username → the FAST tokens (XEP-0484) it may present with this
  // mechanism, for the HT-* mechanisms; none when unset.
  std::function<std::vector<std::string>(const std::string& username)> fast_tokens;
  // Tests only: the server part of the SCRAM nonce, to replay RFC examples.
  // Empty (always, in production): 24 random bytes, base64-encoded.
  std::string fixed_server_nonce_for_tests;
};

// One authentication exchange.
class Mechanism {
 public:
  struct Step {
    enum Kind { kChallenge, kSuccess, kFailure } kind;
    std::string data;  // raw bytes of challenge / additional-data-with-success
    Failure failure = Failure::kNotAuthorized;
  };
  virtual ~Mechanism() = default;
  // First call: the initial response (may be empty); later: each response.
  virtual Step step(std::string_view client_data) = 0;
  // After kSuccess: the authenticated username (localpart) and authzid if any.
  virtual const std::string& username() const = 0;
  virtual const std::string& authzid() const = 0;
  // After kSuccess of a token mechanism (HT-*): the token that matched.
  virtual const std::string& used_token() const {
    static const std::string kNone;
    return kNone;
  }
};

// The PLAIN password check is a callback so storage can verify against the
// stored SCRAM keys (derive with the stored salt and compare).
using PlainVerifier = std::function<bool(const std::string& username, const std::string& password)>;

// nullptr for unknown names. Names: "SCRAM-SHA-1", "SCRAM-SHA-1-PLUS",
// "SCRAM-SHA-256", "SCRAM-SHA-256-PLUS", "PLAIN", and the FAST token
// mechanisms "HT-SHA-256-NONE", "-UNIQ", "-ENDP", "-EXPR".
std::unique_ptr<Mechanism> make_mechanism(std::string_view name, Context ctx,
                                          PlainVerifier plain_verifier = {});

// SASLprep (RFC 4013) via libidn stringprep, as a stored string (unassigned
// code points refused); nullopt for prohibited characters, bidi violations or
// bad UTF-8. An empty result is returned as is: callers decide if it is valid.
std::optional<std::string> saslprep(std::string_view s);

}  // namespace tern::sasl
