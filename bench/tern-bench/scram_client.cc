#include "tern-bench/scram_client.h"

#include <charconv>

#include "sasl/internal.h"

namespace tern::bench {
namespace {

// RFC 5802 §5.1: ',' and '=' in a username are escaped.
std::string sasl_name(std::string_view user) {
  std::string out;
  for (char c : user) {
    if (c == ',') out += "=2C";
    else if (c == '=') out += "=3D";
    else out += c;
  }
  return out;
}

}  // namespace

ScramClient::ScramClient(sasl::Hash hash, std::string_view user, std::string_view password,
                         std::unordered_map<std::string, ScramKeys>& cache)
    : hash_(hash), user_(user), password_(password), cache_(cache) {}

std::string ScramClient::first_message() {
  nonce_ = sasl::base64_encode(sasl::random_bytes(18));
  first_bare_ = "n=" + sasl_name(user_) + ",r=" + nonce_;
  return "n,," + first_bare_;
}

std::optional<std::string> ScramClient::final_message(std::string_view server_first) {
  std::string_view nonce, salt_b64, iter_text;
  std::string_view rest = server_first;
  while (!rest.empty()) {
    auto comma = rest.find(',');
    std::string_view part = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    if (part.size() < 2 || part[1] != '=') continue;
    if (part[0] == 'r')
      nonce = part.substr(2);
    else if (part[0] == 's')
      salt_b64 = part.substr(2);
    else if (part[0] == 'i')
      iter_text = part.substr(2);
  }
  int iterations = 0;
  auto [p, ec] = std::from_chars(iter_text.data(), iter_text.data() + iter_text.size(), iterations);
  if (ec != std::errc() || iterations < 1) return std::nullopt;
  if (nonce.size() <= nonce_.size() || nonce.substr(0, nonce_.size()) != nonce_)
    return std::nullopt;
  auto salt = sasl::base64_decode(salt_b64);
  if (!salt) return std::nullopt;

  // SaltedPassword depends on the hash, password, salt and iterations, not on
  // the user: accounts provisioned with one shared salt cost one PBKDF2 in
  // all, so a ramp of fresh accounts measures the server, not the generator.
  std::string key(1, hash_ == sasl::Hash::kSha1 ? '1' : '2');
  key += std::to_string(iterations);
  key += ':';
  key.append(*salt);
  key += '\0';
  key += password_;
  ScramKeys& keys = cache_[key];
  if (keys.salt != *salt || keys.iterations != iterations) {
    std::string salted = sasl::internal::salted_password(hash_, password_, *salt, iterations);
    keys.salt = *salt;
    keys.iterations = iterations;
    keys.client_key = sasl::internal::hmac(hash_, salted, "Client Key");
    keys.server_key = sasl::internal::hmac(hash_, salted, "Server Key");
  }
  std::string without_proof = "c=biws,r=";  // biws = base64("n,,")
  without_proof.append(nonce);
  std::string auth_message = first_bare_;
  auth_message += ',';
  auth_message.append(server_first);
  auth_message += ',';
  auth_message += without_proof;
  std::string stored_key = sasl::internal::digest(hash_, keys.client_key);
  std::string client_signature = sasl::internal::hmac(hash_, stored_key, auth_message);
  std::string proof = sasl::internal::xor_bytes(keys.client_key, client_signature);
  server_signature_ = sasl::internal::hmac(hash_, keys.server_key, auth_message);
  return without_proof + ",p=" + sasl::base64_encode(proof);
}

bool ScramClient::verify_server_final(std::string_view server_final) const {
  if (server_final.substr(0, 2) != "v=") return false;
  return server_final.substr(2) == sasl::base64_encode(server_signature_);
}

}  // namespace tern::bench
