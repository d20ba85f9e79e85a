#include "transport/session_tickets.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/tls1.h>

#include <cstring>
#include <mutex>
#include <stdexcept>

namespace tern::transport {
namespace {

using Clock = std::chrono::steady_clock;

// Why this keeps forward secrecy: a resumed TLS 1.3 handshake still runs a
// fresh (EC)DHE (psk_dhe_ke; OpenSSL refuses psk_ke without
// SSL_OP_ALLOW_NO_DHE_KEX, which is never set), so its traffic keys do not
// follow from the ticket. What a stolen ticket key would give is the
// resumption secret of sessions still within their lifetime, so the key
// rotates: a ticket is sealed under the current key, accepted (and renewed)
// under the previous one, and gone after two rotations. A key lives in memory
// no longer than that and is wiped on rotation.
class TicketKeys {
 public:
  explicit TicketKeys(std::chrono::seconds lifetime) : lifetime_(lifetime) { fill(current_); }
  ~TicketKeys() {
    OPENSSL_cleanse(&current_, sizeof current_);
    OPENSSL_cleanse(&previous_, sizeof previous_);
  }

  // OpenSSL's ticket key callback (SSL_CTX_set_tlsext_ticket_key_evp_cb):
  // AES-256-CBC then HMAC-SHA256 over the ticket, OpenSSL's own format.
  int seal_or_open(unsigned char name[16], unsigned char iv[EVP_MAX_IV_LENGTH],
                   EVP_CIPHER_CTX* cipher, EVP_MAC_CTX* mac, bool seal) {
    std::lock_guard lock(mu_);
    rotate_if_due();
    const Key* key = &current_;
    // Sealing succeeds with 1. Opening answers 2 ("renew") for either key: a
    // resumed connection gets a fresh ticket, as RFC 8446 §C.4 wants clients
    // to use each ticket once (OpenSSL sends none after a resumption that
    // answered 1), and one opened under the previous key gets the current.
    const int found = seal ? 1 : 2;
    if (seal) {
      std::memcpy(name, current_.name, sizeof current_.name);
      if (RAND_bytes(iv, 16) != 1) return -1;
      if (EVP_EncryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, current_.aes, iv) != 1) return -1;
    } else {
      if (has_previous_ && std::memcmp(name, previous_.name, sizeof previous_.name) == 0) {
        key = &previous_;
      } else if (std::memcmp(name, current_.name, sizeof current_.name) != 0) {
        return 0;  // unknown or expired key: a full handshake
      }
      if (EVP_DecryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, key->aes, iv) != 1) return -1;
    }
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, const_cast<unsigned char*>(key->hmac),
                                          sizeof key->hmac),
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>("SHA256"), 0),
        OSSL_PARAM_construct_end()};
    if (EVP_MAC_CTX_set_params(mac, params) != 1) return -1;
    return found;
  }

 private:
  struct Key {
    unsigned char name[16];
    unsigned char aes[32];
    unsigned char hmac[32];
    Clock::time_point born;
  };

  static void fill(Key& k) {
    if (RAND_bytes(k.name, sizeof k.name) != 1 || RAND_bytes(k.aes, sizeof k.aes) != 1 ||
        RAND_bytes(k.hmac, sizeof k.hmac) != 1)
      throw std::runtime_error("tls: no randomness for session ticket keys");
    k.born = Clock::now();
  }

  void rotate_if_due() {
    if (Clock::now() - current_.born < lifetime_) return;
    OPENSSL_cleanse(&previous_, sizeof previous_);
    previous_ = current_;
    has_previous_ = true;
    fill(current_);
  }

  const std::chrono::seconds lifetime_;
  std::mutex mu_;
  Key current_{};
  Key previous_{};
  bool has_previous_ = false;
};

int keys_index() {
  static const int index = SSL_CTX_get_ex_new_index(
      0, nullptr, nullptr, nullptr,
      [](void*, void* p, CRYPTO_EX_DATA*, int, long, void*) { delete static_cast<TicketKeys*>(p); });
  return index;
}

// The count is kept in the pointer itself: no allocation per connection.
int count_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

int ticket_key_callback(SSL* ssl, unsigned char name[16], unsigned char iv[EVP_MAX_IV_LENGTH],
                        EVP_CIPHER_CTX* cipher, EVP_MAC_CTX* mac, int enc) {
  auto* keys = static_cast<TicketKeys*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), keys_index()));
  if (!keys) return -1;
  int result = keys->seal_or_open(name, iv, cipher, mac, enc == 1);
  if (enc == 1 && result == 1) {
    auto n = reinterpret_cast<std::uintptr_t>(SSL_get_ex_data(ssl, count_index()));
    SSL_set_ex_data(ssl, count_index(), reinterpret_cast<void*>(n + 1));
  }
  return result;
}

// TLS 1.2 gets no tickets: there a ticket carries the master secret itself,
// so resuming from it would undo forward secrecy, and a resumed handshake
// would repeat tls-unique. The version is not chosen yet when the ClientHello
// arrives, but a client that offers TLS 1.3 gets it (the server's maximum),
// and one that does not gets TLS 1.2.
bool offers_tls13(SSL* ssl) {
  const unsigned char* ext = nullptr;
  std::size_t len = 0;
  if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_supported_versions, &ext, &len) != 1 || len < 1)
    return false;
  std::size_t listed = std::min<std::size_t>(ext[0], len - 1);
  for (std::size_t i = 1; i + 1 <= listed; i += 2)
    if (ext[i] == 0x03 && ext[i + 1] == 0x04) return true;
  return false;
}

int tickets_for_tls13_only(SSL* ssl, int*, void*) {
  if (offers_tls13(ssl))
    SSL_clear_options(ssl, SSL_OP_NO_TICKET);
  else
    SSL_set_options(ssl, SSL_OP_NO_TICKET);
  return SSL_CLIENT_HELLO_SUCCESS;
}

}  // namespace

void enable_tls13_session_tickets(SSL_CTX* ctx, std::chrono::seconds lifetime) {
  SSL_CTX_set_ex_data(ctx, keys_index(), new TicketKeys(lifetime));
  count_index();  // allocated before any connection thread asks
  SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticket_key_callback);
  SSL_CTX_set_client_hello_cb(ctx, tickets_for_tls13_only, nullptr);
  // One ticket per handshake: one reconnect's worth (a resumed handshake
  // gets a fresh one). The session lifetime is the ticket's.
  SSL_CTX_set_num_tickets(ctx, 1);
  SSL_CTX_set_timeout(ctx, static_cast<long>(lifetime.count()));
}

bool counts_tickets(SSL* ssl) {
  return SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), keys_index()) != nullptr;
}

std::uint64_t tickets_sent(SSL* ssl) {
  return reinterpret_cast<std::uintptr_t>(SSL_get_ex_data(ssl, count_index()));
}

}  // namespace tern::transport
