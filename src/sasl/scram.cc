// SCRAM server side (RFC 5802; SHA-256 from RFC 7677; channel binding types
// from RFC 5929 and RFC 9266 supplied by the connection).
//
// Failure conditions, since RFC 5802's "e=" errors have no XMPP equivalent:
//   malformed-request   the message breaks the grammar of RFC 5802 §7: missing
//                       or misplaced attribute, bad base64, bad "=XX" escape,
//                       unsupported mandatory extension ("m="), a username
//                       that fails SASLprep ("invalid-username-encoding"),
//                       a gs2 flag that does not fit the mechanism ("p=" on a
//                       plain mechanism, "n"/"y" on -PLUS), or a nonce that is
//                       not the one the server sent.
//   not-authorized      wrong proof, unknown user (only at the final step),
//                       channel binding type the connection lacks, channel
//                       binding data that does not match, "y" while the
//                       server offered -PLUS (a downgrade, RFC 5802 §6).
//   temporary-auth-failure  stored credentials unusable (corrupt record).
#include <string>
#include <vector>

#include "sasl/internal.h"
#include "sasl/mechanism.h"

namespace tern::sasl {
namespace {

using internal::hash_size;

constexpr std::size_t kServerNonceBytes = 24;
constexpr std::size_t kFakeSaltBytes = 16;
constexpr int kFakeIterations = 4096;

// SCRAM attributes are separated by ',' which no attribute value may contain;
// empty pieces are kept so that ",," shows up as a malformed attribute.
std::vector<std::string_view> split_attributes(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = s.find(',', start);
    if (comma == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, comma - start));
    start = comma + 1;
  }
}

bool is_alpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// "<name>=" followed by anything (possibly nothing).
bool is_attribute(std::string_view a, char name) {
  return a.size() >= 2 && a[0] == name && a[1] == '=';
}

// extension: ALPHA "=" 1*value-char. The caller has already checked the
// message for UTF-8 and split on ',', so any non-empty value is a valid one.
bool is_extension(std::string_view a) { return a.size() >= 3 && is_alpha(a[0]) && a[1] == '='; }

// cb-name = 1*(ALPHA / DIGIT / "." / "-")
bool is_cb_name(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!is_alpha(c) && !is_digit(c) && c != '.' && c != '-') return false;
  }
  return true;
}

// printable = %x21-2B / %x2D-7E: printable ASCII except ','.
bool is_nonce(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < 0x21 || c > 0x7e || c == ',') return false;
  }
  return true;
}

// saslname = 1*(value-safe-char / "=2C" / "=3D"). The escapes are taken in
// upper case only, as RFC 5802 §5.1 spells them; anything else after '=' is
// an error the RFC says the server MUST fail on.
std::optional<std::string> decode_saslname(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '=') {
      out.push_back(s[i]);
      continue;
    }
    const std::string_view escape = s.substr(i + 1, 2);
    if (escape == "2C") {
      out.push_back(',');
    } else if (escape == "3D") {
      out.push_back('=');
    } else {
      return std::nullopt;
    }
    i += 2;
  }
  return out;
}

bool credentials_usable(Hash h, const ScramCredentials& c) {
  return !c.salt.empty() && c.iterations >= 1 && c.stored_key.size() == hash_size(h) &&
         c.server_key.size() == hash_size(h);
}

class ScramMechanism final : public Mechanism {
 public:
  ScramMechanism(Hash h, bool plus, Context ctx) : hash_(h), plus_(plus), ctx_(std::move(ctx)) {}

  Step step(std::string_view client_data) override {
    switch (state_) {
      case State::kStart:
        // SCRAM's client-first-message is never empty, so an empty first
        // response means there was no initial response (RFC 6120 §6.4.2):
        // answer with an empty challenge and take the message next time.
        if (client_data.empty()) {
          state_ = State::kAwaitClientFirst;
          return Step{Step::kChallenge, {}};
        }
        return on_client_first(client_data);
      case State::kAwaitClientFirst:
        return on_client_first(client_data);
      case State::kAwaitClientFinal:
        return on_client_final(client_data);
      case State::kDone:
        break;
    }
    return fail(Failure::kMalformedRequest);
  }

  const std::string& username() const override { return username_; }
  const std::string& authzid() const override { return authzid_; }

 private:
  enum class State { kStart, kAwaitClientFirst, kAwaitClientFinal, kDone };

  Step fail(Failure f) {
    state_ = State::kDone;
    return Step{Step::kFailure, {}, f};
  }

  Step on_client_first(std::string_view msg) {
    if (!internal::is_utf8_without_nul(msg)) return fail(Failure::kMalformedRequest);

    // gs2-header = gs2-cbind-flag "," [ authzid ] ","
    std::size_t pos = 0;
    const char flag = msg.empty() ? '\0' : msg[0];
    std::string_view cb_name;
    if (flag == 'n' || flag == 'y') {
      pos = 1;
    } else if (flag == 'p' && msg.size() > 1 && msg[1] == '=') {
      pos = msg.find(',', 2);
      if (pos == std::string_view::npos) return fail(Failure::kMalformedRequest);
      cb_name = msg.substr(2, pos - 2);
      if (!is_cb_name(cb_name)) return fail(Failure::kMalformedRequest);
    } else {
      return fail(Failure::kMalformedRequest);
    }
    if (pos >= msg.size() || msg[pos] != ',') return fail(Failure::kMalformedRequest);
    ++pos;
    std::string authzid;
    if (is_attribute(msg.substr(pos), 'a')) {
      const std::size_t comma = msg.find(',', pos);
      if (comma == std::string_view::npos) return fail(Failure::kMalformedRequest);
      std::optional<std::string> decoded = decode_saslname(msg.substr(pos + 2, comma - pos - 2));
      if (!decoded) return fail(Failure::kMalformedRequest);
      authzid = std::move(*decoded);
      pos = comma;
    }
    if (pos >= msg.size() || msg[pos] != ',') return fail(Failure::kMalformedRequest);
    ++pos;
    const std::string_view gs2_header = msg.substr(0, pos);
    const std::string_view bare = msg.substr(pos);

    // client-first-message-bare = [reserved-mext ","] username "," nonce
    //                             ["," extensions]
    // A leading "m=" announces an extension the client cannot do without;
    // none is defined, so RFC 5802 §5.1 requires failing, which the check
    // for "n=" first does. It is refused among the extensions too.
    const std::vector<std::string_view> attrs = split_attributes(bare);
    if (attrs.size() < 2 || !is_attribute(attrs[0], 'n') || !is_attribute(attrs[1], 'r')) {
      return fail(Failure::kMalformedRequest);
    }
    for (std::size_t i = 2; i < attrs.size(); ++i) {
      if (!is_extension(attrs[i]) || attrs[i][0] == 'm') return fail(Failure::kMalformedRequest);
    }
    std::optional<std::string> decoded_user = decode_saslname(attrs[0].substr(2));
    if (!decoded_user) return fail(Failure::kMalformedRequest);
    const std::string_view client_nonce = attrs[1].substr(2);
    if (!is_nonce(client_nonce)) return fail(Failure::kMalformedRequest);

    // Channel binding (RFC 5802 §6): -PLUS needs "p", the others must not
    // see it, and "y" means the client believes we offered no -PLUS.
    if (flag == 'p') {
      if (!plus_) return fail(Failure::kMalformedRequest);
      std::optional<std::string> cb_data;
      if (ctx_.channel_binding) cb_data = ctx_.channel_binding(cb_name);
      if (!cb_data) return fail(Failure::kNotAuthorized);
      expected_cbind_input_ = std::string(gs2_header) + *cb_data;
    } else {
      if (plus_) return fail(Failure::kMalformedRequest);
      if (flag == 'y' && ctx_.plus_offered) return fail(Failure::kNotAuthorized);
      expected_cbind_input_ = std::string(gs2_header);
    }

    // RFC 5802 §5.1: the server prepares the username as a query; failure
    // is the "invalid-username-encoding" error, i.e. a malformed request.
    std::optional<std::string> user = internal::saslprep_query(*decoded_user);
    if (!user || user->empty()) return fail(Failure::kMalformedRequest);

    std::optional<ScramCredentials> creds;
    if (ctx_.lookup_scram) creds = ctx_.lookup_scram(*user, hash_);
    if (creds) {
      if (!credentials_usable(hash_, *creds)) return fail(Failure::kTemporaryAuthFailure);
      user_exists_ = true;
      credentials_ = std::move(*creds);
    } else {
      credentials_ = fake_credentials(*user);
    }

    std::string server_nonce = ctx_.fixed_server_nonce_for_tests;
    if (server_nonce.empty()) server_nonce = base64_encode(random_bytes(kServerNonceBytes));
    nonce_ = std::string(client_nonce) + server_nonce;
    std::string server_first = "r=" + nonce_ + ",s=" + base64_encode(credentials_.salt) +
                               ",i=" + std::to_string(credentials_.iterations);
    auth_message_prefix_ = std::string(bare) + "," + server_first + ",";
    pending_username_ = std::move(*user);
    pending_authzid_ = std::move(authzid);
    state_ = State::kAwaitClientFinal;
    return Step{Step::kChallenge, std::move(server_first)};
  }

  Step on_client_final(std::string_view msg) {
    if (!internal::is_utf8_without_nul(msg)) return fail(Failure::kMalformedRequest);

    // client-final-message = channel-binding "," nonce ["," extensions] ","
    //                        proof
    const std::vector<std::string_view> attrs = split_attributes(msg);
    if (attrs.size() < 3 || !is_attribute(attrs[0], 'c') || !is_attribute(attrs[1], 'r') ||
        !is_attribute(attrs.back(), 'p')) {
      return fail(Failure::kMalformedRequest);
    }
    for (std::size_t i = 2; i + 1 < attrs.size(); ++i) {
      if (!is_extension(attrs[i])) return fail(Failure::kMalformedRequest);
    }
    std::optional<std::string> cbind_input = base64_decode(attrs[0].substr(2));
    if (!cbind_input) return fail(Failure::kMalformedRequest);
    std::optional<std::string> proof = base64_decode(attrs.back().substr(2));
    if (!proof || proof->size() != hash_size(hash_)) return fail(Failure::kMalformedRequest);
    if (attrs[1].substr(2) != nonce_) return fail(Failure::kMalformedRequest);
    if (*cbind_input != expected_cbind_input_) return fail(Failure::kNotAuthorized);

    // The proof is the last attribute; everything before ",p=" is signed.
    const std::string_view without_proof = msg.substr(0, msg.size() - attrs.back().size() - 1);
    const std::string auth_message = auth_message_prefix_ + std::string(without_proof);
    const std::string client_signature =
        internal::hmac(hash_, credentials_.stored_key, auth_message);
    const std::string client_key = internal::xor_bytes(*proof, client_signature);
    // For an unknown user the stored key is random, so the check runs (and
    // takes its usual time) but cannot pass; user_exists_ makes that certain.
    const bool proof_ok =
        internal::constant_time_equal(internal::digest(hash_, client_key), credentials_.stored_key);
    if (!proof_ok || !user_exists_) return fail(Failure::kNotAuthorized);

    const std::string server_signature =
        internal::hmac(hash_, credentials_.server_key, auth_message);
    username_ = std::move(pending_username_);
    authzid_ = std::move(pending_authzid_);
    state_ = State::kDone;
    return Step{Step::kSuccess, "v=" + base64_encode(server_signature)};
  }

  // A salt that stays the same for the same unknown name (a changing one
  // would give the game away on a second try) and keys that match nothing.
  ScramCredentials fake_credentials(const std::string& user) const {
    ScramCredentials c;
    c.salt = ctx_.fake_salt_secret.empty()
                 ? internal::digest(Hash::kSha256, "tern-fake-salt" + user)
                 : internal::hmac(Hash::kSha256, ctx_.fake_salt_secret, user);
    c.salt.resize(kFakeSaltBytes);
    c.iterations = kFakeIterations;
    c.stored_key = random_bytes(hash_size(hash_));
    c.server_key = random_bytes(hash_size(hash_));
    return c;
  }

  const Hash hash_;
  const bool plus_;
  const Context ctx_;
  State state_ = State::kStart;

  // Between client-first and client-final.
  ScramCredentials credentials_;
  bool user_exists_ = false;
  std::string nonce_;                 // client nonce + server nonce
  std::string expected_cbind_input_;  // gs2-header [+ channel binding data]
  std::string auth_message_prefix_;   // client-first-bare "," server-first ","
  std::string pending_username_;
  std::string pending_authzid_;

  // Set only after success.
  std::string username_;
  std::string authzid_;
};

}  // namespace

std::unique_ptr<Mechanism> internal::make_scram(Hash h, bool plus, Context ctx) {
  return std::make_unique<ScramMechanism>(h, plus, std::move(ctx));
}

}  // namespace tern::sasl
