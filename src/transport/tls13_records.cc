#include "transport/tls13_records.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace tern::transport {

struct Tls13Suite {
  std::uint16_t id;
  const EVP_CIPHER* (*cipher)();
  const char* digest;  // HKDF's hash, by its OpenSSL name
  std::size_t key_length;
  std::size_t hash_length;
  std::uint64_t records_per_key;  // RFC 8446 §5.5
};

namespace {

// §5.5: "For AES-GCM, up to 2^24.5 full-size records (about 24 million) may
// be encrypted on a given connection while keeping a safety margin of
// approximately 2^-57"; for ChaCha20-Poly1305 the limit exceeds 2^64.
constexpr std::uint64_t kAesGcmRecordsPerKey = 23726566;  // 2^24.5, rounded down
constexpr std::uint64_t kNoRecordLimit = UINT64_MAX;

constexpr Tls13Suite kSuites[] = {
    {0x1301, EVP_aes_128_gcm, "SHA256", 16, 32, kAesGcmRecordsPerKey},
    {0x1302, EVP_aes_256_gcm, "SHA384", 32, 48, kAesGcmRecordsPerKey},
    {0x1303, EVP_chacha20_poly1305, "SHA256", 32, 32, kNoRecordLimit},
};

// Records in a row that carry no application data, limited as OpenSSL 3
// limits them (ssl/record; checked against 3.0.19 with its own server): the
// 33rd empty record in a row (MAX_EMPTY_RECORDS 32) and the 5th warning
// alert, in TLS 1.3 user_canceled (MAX_WARN_ALERT_COUNT 5), are a fatal
// unexpected_message. OpenSSL 3.0 does not limit KeyUpdates; each costs a key
// schedule step and a peer has no reason to send several without data, so
// they get the warning alerts' bound. Unlike OpenSSL, only application data
// resets the counts, so alternating the kinds gains a peer nothing.
constexpr unsigned kMaxEmptyRecords = 32;  // more in a row is fatal
constexpr unsigned kMaxWarningAlerts = 5;  // this many in a row is fatal
constexpr unsigned kMaxKeyUpdates = 5;     // this many in a row is fatal

constexpr std::size_t kTagLength = 16;
constexpr std::size_t kMaxPlaintext = 16384;

// Content types (RFC 8446 §5.1) and the alerts this layer sends (§6).
enum : std::uint8_t { kAlert = 21, kHandshake = 22, kApplicationData = 23 };
enum : std::uint8_t {
  kCloseNotify = 0,
  kUnexpectedMessage = 10,
  kBadRecordMac = 20,
  kRecordOverflow = 22,
  kIllegalParameter = 47,
  kDecodeError = 50,
  kUserCanceled = 90,
};
constexpr std::uint8_t kKeyUpdate = 24;

// Cipher contexts shared by the connections of one thread, one per
// direction, re-keyed only when the key changes: a context costs about
// 1 KiB, a re-key a fraction of a microsecond. A cache, not state: what it
// holds never changes a result.
class CipherCache {
 public:
  ~CipherCache() {
    for (auto& s : slots_) {
      EVP_CIPHER_CTX_free(s.ctx);
      s.ctx = nullptr;
      OPENSSL_cleanse(s.key, sizeof s.key);
    }
  }
  // A connection that ends takes its key out of the shared contexts: they
  // are re-keyed with zeros if they still hold it.
  void forget(const Tls13Suite& suite, const unsigned char* key) {
    static const unsigned char kZeros[32] = {};
    for (int encrypt = 0; encrypt < 2; ++encrypt) {
      Slot& s = slots_[encrypt];
      if (!s.ctx || !s.keyed || std::memcmp(s.key, key, suite.key_length) != 0) continue;
      EVP_CipherInit_ex(s.ctx, nullptr, nullptr, kZeros, nullptr, encrypt);
      OPENSSL_cleanse(s.key, sizeof s.key);
      s.keyed = false;
    }
  }
  EVP_CIPHER_CTX* keyed(const Tls13Suite& suite, const unsigned char* key, int encrypt) {
    Slot& s = slots_[encrypt];
    if (!s.ctx) s.ctx = EVP_CIPHER_CTX_new();
    const EVP_CIPHER* cipher = suite.cipher();
    if (s.cipher != cipher) {
      // Fetching the implementation is the expensive part; done once per suite.
      s.cipher = nullptr;
      if (!s.ctx || EVP_CipherInit_ex(s.ctx, cipher, nullptr, nullptr, nullptr, encrypt) != 1)
        throw std::runtime_error("tls13: cannot set up the cipher");
      s.cipher = cipher;
      std::memset(s.key, 0, sizeof s.key);
      s.keyed = false;
    }
    if (!s.keyed || std::memcmp(s.key, key, suite.key_length) != 0) {
      s.keyed = false;
      if (EVP_CipherInit_ex(s.ctx, nullptr, nullptr, key, nullptr, encrypt) != 1)
        throw std::runtime_error("tls13: cannot key the cipher");
      std::memcpy(s.key, key, suite.key_length);
      s.keyed = true;
    }
    return s.ctx;
  }

 private:
  struct Slot {
    EVP_CIPHER_CTX* ctx = nullptr;
    const EVP_CIPHER* cipher = nullptr;
    bool keyed = false;
    unsigned char key[32] = {};
  };
  Slot slots_[2];
};

thread_local CipherCache tl_ciphers;

// HMAC for the key schedule: fetched once per thread, one context per hash,
// re-keyed per use. The one-shot HMAC() it replaces looked the algorithm up
// in the provider store (a lock and a search) and built a context on every
// call, three times per KeyUpdate.
class MacCache {
 public:
  ~MacCache() {
    for (auto*& ctx : contexts_) {
      EVP_MAC_CTX_free(ctx);  // HMAC cleanses its key state when freed
      ctx = nullptr;
    }
    EVP_MAC_free(mac_);
    mac_ = nullptr;
  }
  EVP_MAC_CTX* keyed(const Tls13Suite& suite, const unsigned char* key) {
    EVP_MAC_CTX*& ctx = slot(suite);
    if (!ctx) ctx = make(suite.digest);
    if (EVP_MAC_init(ctx, key, suite.hash_length, nullptr) != 1)
      throw std::runtime_error("tls13: cannot key HMAC");
    return ctx;
  }
  // Re-keys with zeros, so that the context keeps nothing of a secret.
  void scrub(const Tls13Suite& suite) {
    static const unsigned char kZeros[48] = {};
    if (EVP_MAC_CTX* ctx = slot(suite)) EVP_MAC_init(ctx, kZeros, suite.hash_length, nullptr);
  }

 private:
  EVP_MAC_CTX*& slot(const Tls13Suite& suite) { return contexts_[suite.hash_length == 48]; }
  EVP_MAC_CTX* make(const char* digest) {
    if (!mac_) mac_ = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    EVP_MAC_CTX* ctx = mac_ ? EVP_MAC_CTX_new(mac_) : nullptr;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>(digest), 0),
        OSSL_PARAM_construct_end()};
    if (!ctx || EVP_MAC_CTX_set_params(ctx, params) != 1) {
      EVP_MAC_CTX_free(ctx);
      throw std::runtime_error("tls13: cannot set up HMAC");
    }
    return ctx;
  }

  EVP_MAC* mac_ = nullptr;
  EVP_MAC_CTX* contexts_[2] = {};  // SHA-256, SHA-384
};

thread_local MacCache tl_macs;

// HKDF-Expand-Label(secret, label, "", length) (RFC 8446 §7.1). Every output
// here is at most one hash long, so HKDF-Expand is a single HMAC block.
void expand_label(const Tls13Suite& suite, const unsigned char* secret, std::string_view label,
                  unsigned char* out, std::size_t length) {
  unsigned char info[32];
  std::size_t n = 0;
  info[n++] = static_cast<unsigned char>(length >> 8);
  info[n++] = static_cast<unsigned char>(length);
  info[n++] = static_cast<unsigned char>(6 + label.size());
  std::memcpy(info + n, "tls13 ", 6);
  n += 6;
  std::memcpy(info + n, label.data(), label.size());
  n += label.size();
  info[n++] = 0;  // empty context
  info[n++] = 1;  // HKDF-Expand's block counter
  unsigned char block[EVP_MAX_MD_SIZE];
  std::size_t block_length = 0;
  EVP_MAC_CTX* mac = tl_macs.keyed(suite, secret);
  if (EVP_MAC_update(mac, info, n) != 1 ||
      EVP_MAC_final(mac, block, &block_length, sizeof block) != 1 || block_length < length)
    throw std::runtime_error("tls13: HMAC failed");
  std::memcpy(out, block, length);
  OPENSSL_cleanse(block, sizeof block);
}

const Tls13Suite* find_suite(std::uint16_t id) {
  for (const auto& s : kSuites)
    if (s.id == id) return &s;
  return nullptr;
}

// The suite, if it is one of ours and both secrets have its hash's length.
const Tls13Suite* checked_suite(const TrafficSecrets& secrets) {
  const Tls13Suite* suite = find_suite(secrets.suite);
  if (!suite || secrets.client.size() != suite->hash_length ||
      secrets.server.size() != suite->hash_length)
    return nullptr;
  return suite;
}

}  // namespace

Tls13Records::Tls13Records(const Tls13Suite& suite, std::string_view read_secret,
                           std::string_view write_secret)
    : suite_(suite), records_per_key_(suite.records_per_key) {
  set_secret(read_, reinterpret_cast<const unsigned char*>(read_secret.data()));
  set_secret(write_, reinterpret_cast<const unsigned char*>(write_secret.data()));
}

Tls13Records::~Tls13Records() { wipe(); }

void Tls13Records::wipe() {
  if (!wiped_) {
    tl_ciphers.forget(suite_, read_.key);
    tl_ciphers.forget(suite_, write_.key);
  }
  OPENSSL_cleanse(&read_, sizeof read_);
  OPENSSL_cleanse(&write_, sizeof write_);
  wiped_ = true;
}

std::unique_ptr<Tls13Records> Tls13Records::server(const TrafficSecrets& secrets) {
  const Tls13Suite* suite = checked_suite(secrets);
  if (!suite) return nullptr;
  std::unique_ptr<Tls13Records> records(new Tls13Records(*suite, secrets.client, secrets.server));
  records->write_.seq = secrets.server_records_sent;
  return records;
}

std::unique_ptr<Tls13Records> Tls13Records::client(const TrafficSecrets& secrets) {
  const Tls13Suite* suite = checked_suite(secrets);
  if (!suite) return nullptr;
  std::unique_ptr<Tls13Records> records(new Tls13Records(*suite, secrets.server, secrets.client));
  records->read_.seq = secrets.server_records_sent;
  return records;
}

void Tls13Records::set_secret(Direction& d, const unsigned char* secret) {
  std::memmove(d.secret, secret, suite_.hash_length);
  expand_label(suite_, d.secret, "key", d.key, suite_.key_length);
  expand_label(suite_, d.secret, "iv", d.iv, sizeof d.iv);
  tl_macs.scrub(suite_);
  d.seq = 0;
}

// §7.2: application_traffic_secret_N+1 from _N.
void Tls13Records::next_generation(Direction& d) {
  unsigned char next[48];
  expand_label(suite_, d.secret, "traffic upd", next, suite_.hash_length);
  set_secret(d, next);
  OPENSSL_cleanse(next, sizeof next);
}

// §5.3: the IV with the 64-bit sequence number XORed into its last bytes.
void Tls13Records::nonce(Direction& d, unsigned char out[12]) {
  if (d.seq == UINT64_MAX) throw std::runtime_error("tls13: sequence number exhausted");
  std::memcpy(out, d.iv, 12);
  for (int i = 0; i < 8; ++i) out[11 - i] ^= static_cast<unsigned char>(d.seq >> (8 * i));
  ++d.seq;
}

void Tls13Records::seal_record(std::uint8_t type, std::string_view plain, std::string& out) {
  if (wiped_) throw std::logic_error("tls13: sealing after the keys were wiped");
  const std::size_t length = plain.size() + 1 + kTagLength;
  const std::size_t at = out.size();
  out.resize(at + 5 + length);
  auto* p = reinterpret_cast<unsigned char*>(out.data() + at);
  p[0] = kApplicationData;  // the outer type of every protected record
  p[1] = 3;
  p[2] = 3;
  p[3] = static_cast<unsigned char>(length >> 8);
  p[4] = static_cast<unsigned char>(length);
  unsigned char iv[12];
  nonce(write_, iv);
  EVP_CIPHER_CTX* ctx = tl_ciphers.keyed(suite_, write_.key, 1);
  unsigned char* body = p + 5;
  int n = 0;
  bool ok = EVP_CipherInit_ex(ctx, nullptr, nullptr, nullptr, iv, 1) == 1 &&
            EVP_CipherUpdate(ctx, nullptr, &n, p, 5) == 1 &&
            (plain.empty() ||
             EVP_CipherUpdate(ctx, body, &n, reinterpret_cast<const unsigned char*>(plain.data()),
                              static_cast<int>(plain.size())) == 1) &&
            EVP_CipherUpdate(ctx, body + plain.size(), &n, &type, 1) == 1 &&
            EVP_CipherFinal_ex(ctx, body + plain.size() + 1, &n) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, kTagLength,
                                body + plain.size() + 1) == 1;
  if (!ok) throw std::runtime_error("tls13: encryption failed");
}

// The KeyUpdate is the last record under the old key, so no key seals
// more than records_per_key_ records.
void Tls13Records::update_key_if_worn(std::string& out) {
  if (write_.seq + 1 >= std::max<std::uint64_t>(records_per_key_, 2)) seal_key_update(false, out);
}

void Tls13Records::seal(std::string_view plain, std::string& out) {
  if (key_update_owed_) seal_key_update(false, out);
  while (!plain.empty()) {
    auto chunk = plain.substr(0, kMaxPlaintext);
    update_key_if_worn(out);
    seal_record(kApplicationData, chunk, out);
    plain.remove_prefix(chunk.size());
  }
}

void Tls13Records::seal_empty(std::string& out) {
  update_key_if_worn(out);
  seal_record(kApplicationData, {}, out);
}

void Tls13Records::seal_alert(std::uint8_t level, std::uint8_t description, std::string& out) {
  const char alert[2] = {static_cast<char>(level), static_cast<char>(description)};
  seal_record(kAlert, std::string_view(alert, 2), out);
}

void Tls13Records::seal_key_update(bool request_peer_update, std::string& out) {
  const char message[5] = {kKeyUpdate, 0, 0, 1, request_peer_update ? '\1' : '\0'};
  seal_record(kHandshake, std::string_view(message, 5), out);
  next_generation(write_);
  key_update_owed_ = false;
}

std::uint8_t Tls13Records::unprotect(char* header, std::size_t length, std::size_t* plain_length,
                                     Opened* error) {
  auto* h = reinterpret_cast<unsigned char*>(header);
  unsigned char* body = h + 5;
  const std::size_t sealed = length - kTagLength;
  unsigned char iv[12];
  nonce(read_, iv);
  EVP_CIPHER_CTX* ctx = tl_ciphers.keyed(suite_, read_.key, 0);
  int n = 0;
  bool ok = EVP_CipherInit_ex(ctx, nullptr, nullptr, nullptr, iv, 0) == 1 &&
            EVP_CipherUpdate(ctx, nullptr, &n, h, 5) == 1 &&
            EVP_CipherUpdate(ctx, body, &n, body, static_cast<int>(sealed)) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, kTagLength, body + sealed) == 1 &&
            EVP_CipherFinal_ex(ctx, body + sealed, &n) == 1;
  if (!ok) {
    *error = {.error = "record authentication failed", .alert = kBadRecordMac};
    return 0;
  }
  // §5.4: the content type is the last non-zero byte; zeros after it are padding.
  std::size_t end = sealed;
  while (end > 0 && body[end - 1] == 0) --end;
  if (end == 0) {
    *error = {.error = "record without a content type", .alert = kUnexpectedMessage};
    return 0;
  }
  if (end - 1 > kMaxPlaintext) {
    *error = {.error = "record plaintext over 2^14 bytes", .alert = kRecordOverflow};
    return 0;
  }
  *plain_length = end - 1;
  return body[end - 1];
}

// Only KeyUpdate can come after the handshake here (Tern requests no client
// certificate and the client sends no tickets). It changes the key, so it
// must end its record (§5.1), which also rules out a message split over two.
bool Tls13Records::handle_handshake(const char* plain, std::size_t length, Opened* result) {
  auto* m = reinterpret_cast<const unsigned char*>(plain);
  if (length != 5 || m[0] != kKeyUpdate || m[1] != 0 || m[2] != 0 || m[3] != 1) {
    *result = {.error = "unexpected post-handshake message", .alert = kUnexpectedMessage};
    return false;
  }
  if (m[4] > 1) {
    *result = {.error = "bad KeyUpdate", .alert = kIllegalParameter};
    return false;
  }
  next_generation(read_);
  if (m[4] == 1) key_update_owed_ = true;
  return true;
}

bool Tls13Records::count_idle_record(std::uint8_t type, std::size_t plain_length, const char* plain,
                                     Opened* result) {
  if (type == kApplicationData && plain_length > 0) {
    empty_in_a_row_ = user_canceled_in_a_row_ = key_updates_in_a_row_ = 0;
    return true;
  }
  if (type == kApplicationData && ++empty_in_a_row_ > kMaxEmptyRecords) {
    *result = {.error = "too many empty records in a row", .alert = kUnexpectedMessage};
    return false;
  }
  if (type == kAlert && plain_length == 2 && plain[1] == kUserCanceled &&
      ++user_canceled_in_a_row_ >= kMaxWarningAlerts) {
    *result = {.error = "too many user_canceled alerts in a row", .alert = kUnexpectedMessage};
    return false;
  }
  if (type == kHandshake && plain_length > 0 && plain[0] == kKeyUpdate &&
      ++key_updates_in_a_row_ >= kMaxKeyUpdates) {
    *result = {.error = "too many KeyUpdates in a row", .alert = kUnexpectedMessage};
    return false;
  }
  return true;
}

Tls13Records::Opened Tls13Records::open(char* data, std::size_t size) {
  if (wiped_) return {.error = "TLS keys already wiped"};
  Opened result;
  std::size_t at = 0;
  while (size - at >= 5) {
    auto* h = reinterpret_cast<unsigned char*>(data + at);
    const std::size_t length = (std::size_t{h[3]} << 8) | h[4];
    // The version field is ignored (§5.1); the outer type is fixed.
    if (h[0] != kApplicationData)
      return {.error = "unprotected record after the handshake", .alert = kUnexpectedMessage};
    if (length > kMaxPlaintext + 256)
      return {.error = "record over 2^14 + 256 bytes", .alert = kRecordOverflow};
    if (length <= kTagLength)
      return {.error = "record shorter than its tag", .alert = kBadRecordMac};
    if (size - at - 5 < length) break;
    std::size_t plain_length = 0;
    Opened failure;
    std::uint8_t type = unprotect(data + at, length, &plain_length, &failure);
    if (type == 0) return failure;
    const char* plain = data + at + 5;
    at += 5 + length;
    result.consumed = at;
    if (!count_idle_record(type, plain_length, plain, &failure)) return failure;
    switch (type) {
      case kApplicationData:
        std::memmove(data + result.app_bytes, plain, plain_length);
        result.app_bytes += plain_length;
        break;
      case kAlert:
        if (plain_length != 2) return {.error = "malformed alert", .alert = kDecodeError};
        if (plain[1] == kCloseNotify) {
          result.closed = true;
          return result;
        }
        // user_canceled is followed by close_notify; any other alert is fatal in TLS 1.3.
        if (plain[1] != kUserCanceled) return {.error = "the peer sent a TLS alert"};
        break;
      case kHandshake:
        if (!handle_handshake(plain, plain_length, &failure)) return failure;
        break;
      default:
        return {.error = "unexpected record content type", .alert = kUnexpectedMessage};
    }
  }
  return result;
}

}  // namespace tern::transport
