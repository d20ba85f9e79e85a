// The server context of src/transport/tls.cc against OpenSSL's own client:
// what TLS 1.2 may negotiate, and when a TLS 1.3 connection must stay on
// OpenSSL instead of moving to Tls13Records.
#include "transport/tls.h"
#include "transport/session_tickets.h"

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <string>

namespace tern::transport {
namespace {

namespace fs = std::filesystem;

SSL* memory_ssl(SSL_CTX* ctx) {
  SSL* ssl = SSL_new(ctx);
  SSL_set_bio(ssl, BIO_new(BIO_s_mem()), BIO_new(BIO_s_mem()));
  return ssl;
}

void pump(SSL* from, SSL* to) {
  char buf[4096];
  int n;
  while ((n = BIO_read(SSL_get_wbio(from), buf, sizeof buf)) > 0)
    BIO_write(SSL_get_rbio(to), buf, n);
}

std::string read_all(SSL* ssl) {
  std::string out;
  char buf[4096];
  std::size_t n = 0;
  while (SSL_read_ex(ssl, buf, sizeof buf, &n) == 1) out.append(buf, n);
  return out;
}

// An RSA certificate, for the suites an ECDSA one cannot negotiate anyway.
CertPaths make_rsa_certificate(const fs::path& dir) {
  EVP_PKEY* key = EVP_RSA_gen(2048);
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509_sign(cert, key, EVP_sha256());
  CertPaths paths{(dir / "rsa-cert.pem").string(), (dir / "rsa-key.pem").string()};
  FILE* f = std::fopen(paths.cert.c_str(), "w");
  PEM_write_X509(f, cert);
  std::fclose(f);
  f = std::fopen(paths.key.c_str(), "w");
  PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(f);
  X509_free(cert);
  EVP_PKEY_free(key);
  return paths;
}

class TlsContextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tern-tls-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    server_ctx_ = make_server_context(ensure_certificate("", "", dir_.string(), {"localhost"}));
    client_ctx_ = SSL_CTX_new(TLS_client_method());
  }
  void TearDown() override {
    reset();
    SSL_CTX_free(client_ctx_);
    fs::remove_all(dir_);
  }
  void reset() {
    if (client_) SSL_free(client_);
    if (server_) SSL_free(server_);
    client_ = server_ = nullptr;
  }

  // Runs the handshake to its end or its failure; true when both finished.
  bool handshake(SSL_CTX* server_ctx, SSL_SESSION* resume = nullptr) {
    reset();
    client_ = memory_ssl(client_ctx_);
    SSL_set_tlsext_host_name(client_, "localhost");
    if (resume) SSL_set_session(client_, resume);
    server_ = memory_ssl(server_ctx);
    SSL_set_connect_state(client_);
    SSL_set_accept_state(server_);
    for (int i = 0; i < 10 && !(SSL_is_init_finished(client_) && SSL_is_init_finished(server_));
         ++i) {
      SSL_do_handshake(client_);
      pump(client_, server_);
      SSL_do_handshake(server_);
      pump(server_, client_);
    }
    return SSL_is_init_finished(client_) && SSL_is_init_finished(server_);
  }
  bool tls12_handshake_with(SSL_CTX* server_ctx, const char* client_suites) {
    SSL_CTX_set_max_proto_version(client_ctx_, TLS1_2_VERSION);
    EXPECT_EQ(SSL_CTX_set_cipher_list(client_ctx_, client_suites), 1) << client_suites;
    return handshake(server_ctx);
  }
  // Client and server still talk, whoever protects the server's records.
  void expect_openssl_carries_data() {
    ASSERT_EQ(SSL_write(client_, "ping", 4), 4);
    pump(client_, server_);
    EXPECT_EQ(read_all(server_), "ping");
    ASSERT_EQ(SSL_write(server_, "pong", 4), 4);
    pump(server_, client_);
    EXPECT_EQ(read_all(client_), "pong");
  }

  fs::path dir_;
  std::unique_ptr<boost::asio::ssl::context> server_ctx_;
  SSL_CTX* client_ctx_ = nullptr;
  SSL* client_ = nullptr;
  SSL* server_ = nullptr;
};

TEST_F(TlsContextTest, Tls12RefusesSuitesWithoutEcdheOrAead) {
  SSL_CTX* ecdsa = server_ctx_->native_handle();
  EXPECT_FALSE(tls12_handshake_with(ecdsa, "ECDHE-ECDSA-AES128-SHA")) << "CBC";
  EXPECT_FALSE(tls12_handshake_with(ecdsa, "ECDHE-ECDSA-AES256-SHA384")) << "CBC";
  EXPECT_TRUE(tls12_handshake_with(ecdsa, "ECDHE-ECDSA-AES128-GCM-SHA256"));
  EXPECT_STREQ(SSL_get_cipher_name(server_), "ECDHE-ECDSA-AES128-GCM-SHA256");
  EXPECT_TRUE(tls12_handshake_with(ecdsa, "ECDHE-ECDSA-CHACHA20-POLY1305"));

  auto rsa_ctx = make_server_context(make_rsa_certificate(dir_));
  SSL_CTX* rsa = rsa_ctx->native_handle();
  EXPECT_FALSE(tls12_handshake_with(rsa, "AES128-GCM-SHA256")) << "RSA key exchange";
  EXPECT_FALSE(tls12_handshake_with(rsa, "DHE-RSA-AES128-GCM-SHA256")) << "finite-field DHE";
  EXPECT_FALSE(tls12_handshake_with(rsa, "ECDHE-RSA-AES128-SHA")) << "CBC";
  EXPECT_TRUE(tls12_handshake_with(rsa, "ECDHE-RSA-AES256-GCM-SHA384"));
  expect_openssl_carries_data();
}

TEST_F(TlsContextTest, Tls12IssuesNoSessionTicket) {
  ASSERT_TRUE(tls12_handshake_with(server_ctx_->native_handle(), "ECDHE-ECDSA-AES128-GCM-SHA256"));
  expect_openssl_carries_data();
  ASSERT_NE(SSL_get_session(client_), nullptr);
  EXPECT_EQ(SSL_SESSION_has_ticket(SSL_get_session(client_)), 0);
  EXPECT_EQ(take_tls13_records(server_), nullptr);
}

TEST_F(TlsContextTest, Tls13HandsOverWhenNothingIsPending) {
  ASSERT_TRUE(handshake(server_ctx_->native_handle()));
  EXPECT_NE(take_tls13_records(server_), nullptr);
}

// A context with read-ahead takes whatever follows the client's Finished
// into OpenSSL's buffer; those records must not be lost with the SSL object.
TEST_F(TlsContextTest, Tls13RecordsBufferedInOpenSslKeepOpenSsl) {
  SSL_CTX* server_ctx = server_ctx_->native_handle();
  SSL_CTX_set_read_ahead(server_ctx, 1);
  client_ = memory_ssl(client_ctx_);
  server_ = memory_ssl(server_ctx);
  SSL_set_connect_state(client_);
  SSL_set_accept_state(server_);
  SSL_do_handshake(client_);  // ClientHello
  pump(client_, server_);
  SSL_do_handshake(server_);  // ServerHello … Finished
  pump(server_, client_);
  ASSERT_EQ(SSL_do_handshake(client_), 1);  // Finished, then at once:
  ASSERT_EQ(SSL_write(client_, "<stream:stream>", 15), 15);
  pump(client_, server_);
  ASSERT_EQ(SSL_do_handshake(server_), 1);
  ASSERT_EQ(SSL_version(server_), TLS1_3_VERSION);
  EXPECT_EQ(take_tls13_records(server_), nullptr);
  EXPECT_EQ(read_all(server_), "<stream:stream>");
  expect_openssl_carries_data();
}

TEST_F(TlsContextTest, Tls13SessionTicketsKeepOpenSsl) {
  SSL_CTX_set_num_tickets(server_ctx_->native_handle(), 1);
  ASSERT_TRUE(handshake(server_ctx_->native_handle()));
  EXPECT_EQ(take_tls13_records(server_), nullptr);
  expect_openssl_carries_data();
}

TEST_F(TlsContextTest, Tls13QueuedKeyUpdateKeepsOpenSsl) {
  ASSERT_TRUE(handshake(server_ctx_->native_handle()));
  ASSERT_EQ(SSL_key_update(server_, SSL_KEY_UPDATE_REQUESTED), 1);
  EXPECT_EQ(take_tls13_records(server_), nullptr);
  expect_openssl_carries_data();
}

TEST_F(TlsContextTest, Tls13PostHandshakeAuthKeepsOpenSsl) {
  SSL_CTX_set_verify(server_ctx_->native_handle(), SSL_VERIFY_PEER | SSL_VERIFY_POST_HANDSHAKE,
                     [](int, X509_STORE_CTX*) { return 1; });
  SSL_CTX_set_post_handshake_auth(client_ctx_, 1);
  ASSERT_TRUE(handshake(server_ctx_->native_handle()));
  EXPECT_EQ(take_tls13_records(server_), nullptr);
  expect_openssl_carries_data();
}

}  // namespace
}  // namespace tern::transport

namespace tern::transport {
namespace {

// The ticket is a record after the handshake: the client takes it in on its
// next read. The records then carry the server's data after it.
std::string server_records_say(Tls13Records& records, SSL* client, std::string_view text) {
  std::string wire;
  records.seal(text, wire);
  BIO_write(SSL_get_rbio(client), wire.data(), static_cast<int>(wire.size()));
  return read_all(client);
}

class SessionTicketTest : public TlsContextTest {
 protected:
  void SetUp() override {
    TlsContextTest::SetUp();
    enable_tls13_session_tickets(server_ctx_->native_handle(), std::chrono::hours(1));
  }
};

TEST_F(SessionTicketTest, Tls13TicketRecordIsCountedAndTheRecordLayerContinuesAfterIt) {
  ASSERT_TRUE(handshake(server_ctx_->native_handle()));
  EXPECT_EQ(tickets_sent(server_), 1u);
  auto records = take_tls13_records(server_);
  ASSERT_NE(records, nullptr);
  EXPECT_EQ(server_records_say(*records, client_, "<stream:features/>"), "<stream:features/>");
  SSL_SESSION* session = SSL_get_session(client_);
  ASSERT_NE(session, nullptr);
  EXPECT_EQ(SSL_SESSION_has_ticket(session), 1);
}

TEST_F(SessionTicketTest, AReconnectResumesWithoutTheCertificateAndHandsOverAgain) {
  ASSERT_TRUE(handshake(server_ctx_->native_handle()));
  auto first = take_tls13_records(server_);
  ASSERT_NE(first, nullptr);
  server_records_say(*first, client_, "hello");
  SSL_shutdown(client_);  // a clean close: OpenSSL forgets sessions of broken ones
  SSL_SESSION* ticket = SSL_get1_session(client_);
  ASSERT_EQ(SSL_SESSION_has_ticket(ticket), 1);
  ASSERT_TRUE(handshake(server_ctx_->native_handle(), ticket));
  SSL_SESSION_free(ticket);
  EXPECT_TRUE(SSL_session_reused(server_));
  EXPECT_TRUE(SSL_session_reused(client_));
  // A fresh ticket for the next reconnect (tickets are single-use, RFC 8446 §C.4).
  EXPECT_EQ(tickets_sent(server_), 1u);
  // A resumed TLS 1.3 handshake still runs ECDHE (psk_dhe_ke): forward secret.
  EXPECT_NE(SSL_get_negotiated_group(server_), 0);
  EXPECT_FALSE(tls_unique(server_).has_value()) << "tls-unique repeats on resumption";
  EXPECT_TRUE(tls_exporter(server_).has_value());
  auto second = take_tls13_records(server_);
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(server_records_say(*second, client_, "again"), "again");
}

TEST_F(SessionTicketTest, AnotherServersTicketGetsAFullHandshake) {
  ASSERT_TRUE(handshake(server_ctx_->native_handle()));
  read_all(client_);
  SSL_shutdown(client_);
  SSL_SESSION* ticket = SSL_get1_session(client_);
  auto other = make_server_context(ensure_certificate("", "", dir_.string(), {"localhost"}));
  enable_tls13_session_tickets(other->native_handle(), std::chrono::hours(1));
  ASSERT_TRUE(handshake(other->native_handle(), ticket));
  SSL_SESSION_free(ticket);
  EXPECT_FALSE(SSL_session_reused(server_));
  EXPECT_NE(take_tls13_records(server_), nullptr);
}

TEST_F(SessionTicketTest, Tls12StillGetsNoTicket) {
  ASSERT_TRUE(tls12_handshake_with(server_ctx_->native_handle(), "ECDHE-ECDSA-AES128-GCM-SHA256"));
  expect_openssl_carries_data();
  ASSERT_NE(SSL_get_session(client_), nullptr);
  EXPECT_EQ(SSL_SESSION_has_ticket(SSL_get_session(client_)), 0);
}

}  // namespace
}  // namespace tern::transport
