#include "transport/tls.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string_view>

#include "core/log.h"
#include "transport/session_tickets.h"

namespace tern::transport {
namespace fs = std::filesystem;
namespace {

template <class T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;

void write_pem(const std::string& path, bool is_key, EVP_PKEY* pkey, X509* cert) {
  FILE* f = std::fopen(path.c_str(), "wx");
  if (!f) throw std::runtime_error("cannot create " + path);
  int ok = is_key ? PEM_write_PrivateKey(f, pkey, nullptr, nullptr, 0, nullptr, nullptr)
                  : PEM_write_X509(f, cert);
  std::fclose(f);
  if (!ok) throw std::runtime_error("cannot write " + path);
  if (is_key) fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
}

void make_self_signed(const std::string& cert_path, const std::string& key_path,
                      const std::vector<std::string>& domains) {
  PkeyPtr pkey(EVP_EC_gen("P-256"));
  if (!pkey) throw std::runtime_error("cannot generate a TLS key");
  X509Ptr cert(X509_new());
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 10L * 365 * 24 * 3600);
  X509_set_pubkey(cert.get(), pkey.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  const std::string& cn = domains.empty() ? std::string("localhost") : domains.front();
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  std::string san;
  for (const auto& d : domains) san += (san.empty() ? "DNS:" : ",DNS:") + d;
  if (san.empty()) san = "DNS:localhost";
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  if (X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, san.c_str())) {
    X509_add_ext(cert.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }
  if (!X509_sign(cert.get(), pkey.get(), EVP_sha256()))
    throw std::runtime_error("cannot sign the self-signed certificate");
  write_pem(key_path, true, pkey.get(), nullptr);
  write_pem(cert_path, false, nullptr, cert.get());
}

// The TLS 1.3 application traffic secrets, as OpenSSL's key log hands them
// over during the handshake, kept with the SSL object until taken.
struct CapturedSecrets {
  TrafficSecrets secrets;
  ~CapturedSecrets() { forget(); }
  void forget() {
    OPENSSL_cleanse(secrets.client.data(), secrets.client.size());
    OPENSSL_cleanse(secrets.server.data(), secrets.server.size());
    secrets.client.clear();
    secrets.server.clear();
  }
};

int captured_secrets_index() {
  static const int index = SSL_get_ex_new_index(
      0, nullptr, nullptr, nullptr,
      [](void*, void* p, CRYPTO_EX_DATA*, int, long, void*) {
        delete static_cast<CapturedSecrets*>(p);
      });
  return index;
}

std::optional<std::string> from_hex(std::string_view hex) {
  if (hex.size() % 2) return std::nullopt;
  std::string out(hex.size() / 2, '\0');
  for (std::size_t i = 0; i < out.size(); ++i) {
    int v = 0;
    for (char c : hex.substr(2 * i, 2)) {
      int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
      if (d < 0) return std::nullopt;
      v = v * 16 + d;
    }
    out[i] = static_cast<char>(v);
  }
  return out;
}

// Key log lines look like "CLIENT_TRAFFIC_SECRET_0 <client random> <secret>"
// (NSS key log format); only the two application secrets are kept.
void capture_secret(const SSL* ssl, const char* line) {
  std::string_view text(line);
  auto label_end = text.find(' ');
  auto random_end = text.find(' ', label_end + 1);
  if (label_end == text.npos || random_end == text.npos) return;
  auto label = text.substr(0, label_end);
  bool client = label == "CLIENT_TRAFFIC_SECRET_0";
  if (!client && label != "SERVER_TRAFFIC_SECRET_0") return;
  auto secret = from_hex(text.substr(random_end + 1));
  if (!secret) return;
  SSL* s = const_cast<SSL*>(ssl);  // ex_data is ours to set; OpenSSL passes const
  auto* captured = static_cast<CapturedSecrets*>(SSL_get_ex_data(s, captured_secrets_index()));
  if (!captured) {
    captured = new CapturedSecrets;
    SSL_set_ex_data(s, captured_secrets_index(), captured);
  }
  (client ? captured->secrets.client : captured->secrets.server) = std::move(*secret);
}

}  // namespace

CertPaths ensure_certificate(const std::string& cert, const std::string& key,
                             const std::string& data_dir,
                             const std::vector<std::string>& domains) {
  if (!cert.empty() || !key.empty()) {
    if (cert.empty() || key.empty())
      throw std::runtime_error("tls.cert and tls.key must be given together");
    return {cert, key};
  }
  CertPaths paths{data_dir + "/tls-cert.pem", data_dir + "/tls-key.pem"};
  if (!fs::exists(paths.cert) || !fs::exists(paths.key)) {
    fs::remove(paths.cert);
    fs::remove(paths.key);
    make_self_signed(paths.cert, paths.key, domains);
    spdlog::info("tls: made a self-signed certificate {}", paths.cert);
  }
  return paths;
}

std::unique_ptr<boost::asio::ssl::context> make_server_context(const CertPaths& paths) {
  namespace ssl = boost::asio::ssl;
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = ctx->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  // Idle sessions give their 2×~17 KiB record buffers back.
  SSL_CTX_set_mode(native, SSL_MODE_RELEASE_BUFFERS);
  // No session cache, and no tickets unless enable_tls13_session_tickets
  // turns on TLS 1.3 ones (never TLS 1.2's: see session_tickets.cc).
  SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                  SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_TICKET);
  SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_OFF);
  // TLS 1.2: forward secrecy (ECDHE) and AEAD only, for ECDSA (the
  // self-signed default) and RSA certificates. No CBC (padding oracles,
  // Lucky13), no static RSA key exchange, no finite-field DHE.
  if (SSL_CTX_set_cipher_list(native,
                              "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                              "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
                              "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256") != 1)
    throw std::runtime_error("tls: cannot set the TLS 1.2 cipher suites");
  SSL_CTX_set_num_tickets(native, 0);
  // The three AEAD suites Tls13Records implements (OpenSSL's default set).
  SSL_CTX_set_ciphersuites(native,
                           "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256");
  captured_secrets_index();  // allocated before any connection thread asks
  SSL_CTX_set_keylog_callback(native, capture_secret);
  ctx->use_certificate_chain_file(paths.cert);
  ctx->use_private_key_file(paths.key, ssl::context::pem);
  // XEP-0368: direct TLS clients may offer ALPN "xmpp-client"; accept it,
  // and accept clients that offer no ALPN at all.
  SSL_CTX_set_alpn_select_cb(
      native,
      [](SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
         unsigned inlen, void*) -> int {
        static const unsigned char kProto[] = "\x0bxmpp-client";
        unsigned char* sel = nullptr;
        if (SSL_select_next_proto(&sel, outlen, kProto, sizeof kProto - 1, in, inlen) ==
            OPENSSL_NPN_NEGOTIATED) {
          *out = sel;
          return SSL_TLSEXT_ERR_OK;
        }
        return SSL_TLSEXT_ERR_NOACK;
      },
      nullptr);
  return ctx;
}

namespace {

// Accept any certificate during the handshake; the verify result stays on
// the connection (SSL_get_verify_result) for the stream to judge.
int accept_any_certificate(int, X509_STORE_CTX*) { return 1; }

void trust_system_and(boost::asio::ssl::context& ctx, const std::string& ca_file) {
  SSL_CTX* native = ctx.native_handle();
  SSL_CTX_set_default_verify_paths(native);
  if (!ca_file.empty() && SSL_CTX_load_verify_locations(native, ca_file.c_str(), nullptr) != 1)
    throw std::runtime_error("tls: cannot read s2s.ca_file " + ca_file);
  SSL_CTX_set_verify(native, SSL_VERIFY_PEER, accept_any_certificate);
}

}  // namespace

std::unique_ptr<boost::asio::ssl::context> make_s2s_server_context(const CertPaths& paths,
                                                                   const std::string& ca_file) {
  auto ctx = make_server_context(paths);
  trust_system_and(*ctx, ca_file);
  // A session id context is required once peers are asked for certificates.
  static const unsigned char kSidCtx[] = "tern-s2s";
  SSL_CTX_set_session_id_context(ctx->native_handle(), kSidCtx, sizeof kSidCtx - 1);
  return ctx;
}

std::unique_ptr<boost::asio::ssl::context> make_s2s_client_context(const CertPaths& paths,
                                                                   const std::string& ca_file) {
  namespace ssl = boost::asio::ssl;
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
  SSL_CTX* native = ctx->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_mode(native, SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET);
  SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_OFF);
  // Our certificate, for peers that accept SASL EXTERNAL (XEP-0178).
  ctx->use_certificate_chain_file(paths.cert);
  ctx->use_private_key_file(paths.key, ssl::context::pem);
  trust_system_and(*ctx, ca_file);
  return ctx;
}

bool certificate_names(X509* cert, const std::string& domain) {
  if (!cert || domain.empty()) return false;
  return X509_check_host(cert, domain.data(), domain.size(), 0, nullptr) == 1;
}

namespace {

// Tls13Records starts both directions at application_traffic_secret_0 with
// sequence number 0 and handles nothing but data, alerts and KeyUpdate. That
// holds only if OpenSSL has not read past the client's Finished, written
// anything after its own, or promised anything still to come; otherwise
// OpenSSL stays in charge of the connection, as it does for TLS 1.2.
bool can_hand_over(SSL* ssl) {
  return SSL_version(ssl) == TLS1_3_VERSION && SSL_is_init_finished(ssl) &&
         // Nothing of the client's buffered inside OpenSSL: without
         // read-ahead it reads exactly one record at a time, but a context
         // with read-ahead on would take whatever followed the Finished.
         !SSL_has_pending(ssl) &&
         // Each NewSessionTicket (sent with the handshake: none is due once
         // it is finished) used up a sequence number, which the record
         // layer continues from: so each must have been counted.
         (SSL_get_num_tickets(ssl) == 0 || counts_tickets(ssl)) &&
         // No KeyUpdate of ours queued: it would be lost with the SSL object.
         SSL_get_key_update_type(ssl) == SSL_KEY_UPDATE_NONE &&
         // No post-handshake client authentication: its messages would be
         // unexpected here, and OpenSSL alone can answer them.
         (SSL_get_verify_mode(ssl) & SSL_VERIFY_POST_HANDSHAKE) == 0 &&
         // No 0-RTT: early data runs under keys Tls13Records never gets.
         SSL_get_early_data_status(ssl) != SSL_EARLY_DATA_ACCEPTED;
}

}  // namespace

std::unique_ptr<Tls13Records> take_tls13_records(SSL* ssl) {
  auto* captured = static_cast<CapturedSecrets*>(SSL_get_ex_data(ssl, captured_secrets_index()));
  if (!captured) return nullptr;
  if (!can_hand_over(ssl)) {
    captured->forget();  // OpenSSL keeps its own copy of what it needs
    return nullptr;
  }
  const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl);
  if (!cipher) return nullptr;
  captured->secrets.suite = static_cast<std::uint16_t>(SSL_CIPHER_get_protocol_id(cipher));
  captured->secrets.server_records_sent = tickets_sent(ssl);
  auto records = Tls13Records::server(captured->secrets);
  // The record layer has its own copy now (and re-derives from it).
  if (records) captured->forget();
  return records;
}

ChannelBindings channel_bindings(SSL* ssl) {
  return {tls_exporter(ssl), tls_unique(ssl), tls_server_end_point(ssl)};
}

std::optional<std::string> tls_exporter(SSL* ssl) {
  if (!ssl) return std::nullopt;
  if (SSL_version(ssl) < TLS1_3_VERSION && SSL_get_extms_support(ssl) != 1) return std::nullopt;
  std::string out(32, '\0');
  static const char kLabel[] = "EXPORTER-Channel-Binding";
  // RFC 9266: "with no context value". In TLS 1.2 (RFC 5705) no context
  // and an empty one give different values, so use_context must be 0.
  if (SSL_export_keying_material(ssl, reinterpret_cast<unsigned char*>(out.data()), out.size(),
                                 kLabel, sizeof kLabel - 1, nullptr, 0, 0) != 1)
    return std::nullopt;
  return out;
}

std::optional<std::string> tls_unique(SSL* ssl) {
  if (!ssl || SSL_session_reused(ssl)) return std::nullopt;
  // On a full handshake the client's Finished is the one both sides use.
  unsigned char buf[EVP_MAX_MD_SIZE];
  std::size_t len = SSL_get_peer_finished(ssl, buf, sizeof buf);
  if (len == 0) return std::nullopt;
  return std::string(reinterpret_cast<char*>(buf), len);
}

std::optional<std::string> tls_server_end_point(SSL* ssl) {
  if (!ssl) return std::nullopt;
  X509* cert = SSL_get_certificate(ssl);
  if (!cert) return std::nullopt;
  // RFC 5929 §4.1: the certificate's signature hash, with MD5/SHA-1 → SHA-256.
  int md_nid = NID_undef;
  if (!X509_get_signature_info(cert, &md_nid, nullptr, nullptr, nullptr)) return std::nullopt;
  const EVP_MD* md = EVP_get_digestbynid(md_nid);
  if (!md || md_nid == NID_md5 || md_nid == NID_sha1) md = EVP_sha256();
  unsigned char buf[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!X509_digest(cert, md, buf, &len)) return std::nullopt;
  return std::string(reinterpret_cast<char*>(buf), len);
}

}  // namespace tern::transport
