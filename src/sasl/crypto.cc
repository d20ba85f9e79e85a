// Cryptographic building blocks of SCRAM on OpenSSL 3, and the base64 codec
// SASL payloads travel in.
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <cstdio>
#include <cstdlib>

#include "sasl/internal.h"
#include "sasl/mechanism.h"

namespace tern::sasl {
namespace {

const EVP_MD* evp_md(Hash h) { return h == Hash::kSha1 ? EVP_sha1() : EVP_sha256(); }

const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

unsigned char* bytes(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

// OpenSSL failing to hash or MAC a short in-memory buffer means the library
// is unusable (e.g. a FIPS provider that refuses SHA-1); there is no safe way
// to authenticate anyone after that.
[[noreturn]] void crypto_failure(const char* what) {
  std::fprintf(stderr, "tern: OpenSSL %s failed\n", what);
  std::abort();
}

// Value of a base64 alphabet character, or -1.
int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

}  // namespace

namespace internal {

std::size_t hash_size(Hash h) { return h == Hash::kSha1 ? 20 : 32; }

std::string digest(Hash h, std::string_view data) {
  std::string out(EVP_MAX_MD_SIZE, '\0');
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), bytes(out), &len, evp_md(h), nullptr) != 1) {
    crypto_failure("EVP_Digest");
  }
  out.resize(len);
  return out;
}

std::string hmac(Hash h, std::string_view key, std::string_view data) {
  std::string out(EVP_MAX_MD_SIZE, '\0');
  unsigned int len = 0;
  // HMAC() with an empty key gets a null pointer from an empty string_view;
  // give it a valid address instead.
  static constexpr char kNoKey[1] = {0};
  const void* key_ptr = key.empty() ? kNoKey : key.data();
  if (HMAC(evp_md(h), key_ptr, static_cast<int>(key.size()), bytes(data), data.size(), bytes(out),
           &len) == nullptr) {
    crypto_failure("HMAC");
  }
  out.resize(len);
  return out;
}

std::string salted_password(Hash h, std::string_view password, std::string_view salt,
                            int iterations) {
  if (iterations < 1) return {};
  std::string out(hash_size(h), '\0');
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), bytes(salt),
                        static_cast<int>(salt.size()), iterations, evp_md(h),
                        static_cast<int>(out.size()), bytes(out)) != 1) {
    crypto_failure("PKCS5_PBKDF2_HMAC");
  }
  return out;
}

std::string xor_bytes(std::string_view a, std::string_view b) {
  std::string out(a);
  for (std::size_t i = 0; i < out.size() && i < b.size(); ++i) out[i] ^= b[i];
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  // Sizes are public (both are hash outputs); only the contents are secret.
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace internal

ScramCredentials derive_credentials(Hash h, std::string_view password, std::string_view salt,
                                    int iterations) {
  // RFC 5802 §2.2 Normalize(): SASLprep as a query; a password that cannot
  // be prepared is used as sent, since clients that skip SASLprep send it so.
  std::optional<std::string> prepared = internal::saslprep_query(password);
  std::string_view normalized = password;
  if (prepared && !prepared->empty()) normalized = *prepared;

  ScramCredentials c;
  c.salt = std::string(salt);
  c.iterations = iterations;
  std::string salted = internal::salted_password(h, normalized, salt, iterations);
  if (salted.empty()) return c;  // unusable iteration count: keys stay empty, match nothing
  std::string client_key = internal::hmac(h, salted, "Client Key");
  c.stored_key = internal::digest(h, client_key);
  c.server_key = internal::hmac(h, salted, "Server Key");
  return c;
}

std::string random_bytes(std::size_t n) {
  std::string out(n, '\0');
  if (n == 0) return out;
  // Nonces and salts from a failed generator would be guessable: stop rather
  // than authenticate with them.
  if (RAND_bytes(bytes(out), static_cast<int>(n)) != 1) crypto_failure("RAND_bytes");
  return out;
}

std::string base64_encode(std::string_view raw) {
  if (raw.empty()) return {};
  std::string out(4 * ((raw.size() + 2) / 3) + 1, '\0');  // + the NUL EVP writes
  int len = EVP_EncodeBlock(bytes(out), bytes(raw), static_cast<int>(raw.size()));
  out.resize(static_cast<std::size_t>(len));
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  // EVP_DecodeBlock skips surrounding whitespace, counts padding as zero
  // bytes and ignores non-zero trailing bits, so validate the canonical form
  // here first: groups of four alphabet characters, at most two '=' and only
  // at the very end, and the bits that padding drops all zero.
  if (text.size() % 4 != 0) return std::nullopt;
  if (text.empty()) return std::string();
  std::size_t padding = 0;
  if (text.back() == '=') padding = text[text.size() - 2] == '=' ? 2 : 1;
  const std::size_t data_chars = text.size() - padding;
  for (std::size_t i = 0; i < data_chars; ++i) {
    if (base64_value(text[i]) < 0) return std::nullopt;
  }
  if (padding > 0) {
    const int last = base64_value(text[data_chars - 1]);
    const int unused_bits_mask = padding == 2 ? 0x0f : 0x03;
    if ((last & unused_bits_mask) != 0) return std::nullopt;
  }

  std::string out(text.size() / 4 * 3, '\0');
  int len = EVP_DecodeBlock(bytes(out), bytes(text), static_cast<int>(text.size()));
  if (len < 0 || static_cast<std::size_t>(len) != out.size()) return std::nullopt;
  out.resize(out.size() - padding);
  return out;
}

}  // namespace tern::sasl
