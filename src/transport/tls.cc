#include "transport/tls.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <stdexcept>

#include "core/log.h"

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
  SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                  SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_num_tickets(native, 0);
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

std::optional<std::string> tls_exporter(SSL* ssl) {
  if (!ssl) return std::nullopt;
  if (SSL_version(ssl) < TLS1_3_VERSION && SSL_get_extms_support(ssl) != 1) return std::nullopt;
  std::string out(32, '\0');
  static const char kLabel[] = "EXPORTER-Channel-Binding";
  if (SSL_export_keying_material(ssl, reinterpret_cast<unsigned char*>(out.data()), out.size(),
                                 kLabel, sizeof kLabel - 1, nullptr, 0, 1) != 1)
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
