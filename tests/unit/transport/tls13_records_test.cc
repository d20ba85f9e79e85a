// Tls13Records against OpenSSL's own client: the handshake runs through
// memory BIOs with Tern's server context, then the server side is handed to
// Tls13Records and the two must keep understanding each other.
#include "transport/tls13_records.h"

#include <openssl/bio.h>
#include <openssl/ssl.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "transport/tls.h"

namespace tern::transport {
namespace {

namespace fs = std::filesystem;

// Moves everything `from` has written into `to`'s read side.
void pump(SSL* from, SSL* to) {
  BIO* out = SSL_get_wbio(from);
  char buf[4096];
  int n;
  while ((n = BIO_read(out, buf, sizeof buf)) > 0) BIO_write(SSL_get_rbio(to), buf, n);
}

std::string drain(SSL* ssl) {
  std::string out;
  char buf[4096];
  int n;
  while ((n = BIO_read(SSL_get_wbio(ssl), buf, sizeof buf)) > 0) out.append(buf, n);
  return out;
}

void feed(SSL* ssl, const std::string& bytes) {
  BIO_write(SSL_get_rbio(ssl), bytes.data(), static_cast<int>(bytes.size()));
}

std::string read_all(SSL* ssl) {
  std::string out;
  char buf[4096];
  std::size_t n = 0;
  while (SSL_read_ex(ssl, buf, sizeof buf, &n) == 1) out.append(buf, n);
  return out;
}

SSL* memory_ssl(SSL_CTX* ctx) {
  SSL* ssl = SSL_new(ctx);
  SSL_set_bio(ssl, BIO_new(BIO_s_mem()), BIO_new(BIO_s_mem()));
  return ssl;
}

class Tls13RecordsTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tern-tls13-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    server_ctx_ = make_server_context(ensure_certificate("", "", dir_.string(), {"localhost"}));
    client_ctx_ = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_ciphersuites(client_ctx_, GetParam());
  }
  void TearDown() override {
    if (client_) SSL_free(client_);
    if (server_) SSL_free(server_);
    SSL_CTX_free(client_ctx_);
    fs::remove_all(dir_);
  }

  // Handshake, then the server's records, or nullptr.
  std::unique_ptr<Tls13Records> connect() {
    client_ = memory_ssl(client_ctx_);
    server_ = memory_ssl(server_ctx_->native_handle());
    SSL_set_connect_state(client_);
    SSL_set_accept_state(server_);
    for (int i = 0; i < 10 && !(SSL_is_init_finished(client_) && SSL_is_init_finished(server_));
         ++i) {
      SSL_do_handshake(client_);
      pump(client_, server_);
      SSL_do_handshake(server_);
      pump(server_, client_);
    }
    EXPECT_TRUE(SSL_is_init_finished(server_));
    auto records = take_tls13_records(server_);
    EXPECT_EQ(drain(server_), "") << "OpenSSL must send nothing after the handshake";
    return records;
  }

  std::string client_sends(std::string_view text) {
    SSL_write(client_, text.data(), static_cast<int>(text.size()));
    return drain(client_);
  }

  // Opens `wire` and returns the application data, failing on any error.
  std::string open(Tls13Records& r, std::string wire) {
    auto opened = r.open(wire.data(), wire.size());
    EXPECT_EQ(opened.error, nullptr) << opened.error;
    EXPECT_EQ(opened.consumed, wire.size());
    return wire.substr(0, opened.app_bytes);
  }

  fs::path dir_;
  std::unique_ptr<boost::asio::ssl::context> server_ctx_;
  SSL_CTX* client_ctx_ = nullptr;
  SSL* client_ = nullptr;
  SSL* server_ = nullptr;
};

TEST_P(Tls13RecordsTest, CarriesDataBothWays) {
  auto records = connect();
  ASSERT_TRUE(records);
  EXPECT_EQ(open(*records, client_sends("<stream:stream>")), "<stream:stream>");
  std::string two = client_sends("a");  // (the operands of + are not sequenced)
  two += client_sends("bc");
  EXPECT_EQ(open(*records, two), "abc");

  std::string wire;
  records->seal("<features/>", wire);
  records->seal("", wire);  // nothing to send, no record
  feed(client_, wire);
  EXPECT_EQ(read_all(client_), "<features/>");

  // More than one record's worth: split at 2^14 and reassembled.
  std::string big(40000, 'x');
  wire.clear();
  records->seal(big, wire);
  EXPECT_EQ(wire.size(), big.size() + 3 * (5 + 17));
  feed(client_, wire);
  EXPECT_TRUE(read_all(client_) == big);
  EXPECT_TRUE(open(*records, client_sends(big)) == big);
}

TEST_P(Tls13RecordsTest, LeavesARecordCutShortForLater) {
  auto records = connect();
  ASSERT_TRUE(records);
  std::string wire = client_sends("hello");
  wire += client_sends("world");
  std::string first = wire.substr(0, wire.size() - 3);
  auto opened = records->open(first.data(), first.size());
  ASSERT_EQ(opened.error, nullptr) << opened.error;
  EXPECT_EQ(first.substr(0, opened.app_bytes), "hello");
  std::string rest = first.substr(opened.consumed) + wire.substr(wire.size() - 3);
  EXPECT_EQ(open(*records, rest), "world");

  std::string header = client_sends("x").substr(0, 4);
  opened = records->open(header.data(), header.size());
  EXPECT_EQ(opened.error, nullptr);
  EXPECT_EQ(opened.consumed, 0u);
}

TEST_P(Tls13RecordsTest, FollowsTheClientsKeyUpdates) {
  auto records = connect();
  ASSERT_TRUE(records);
  // The client updates its key and asks us to update ours.
  ASSERT_EQ(SSL_key_update(client_, SSL_KEY_UPDATE_REQUESTED), 1);
  EXPECT_EQ(open(*records, client_sends("after update")), "after update");
  std::string wire;
  records->seal("reply", wire);  // preceded by our own KeyUpdate
  feed(client_, wire);
  EXPECT_EQ(read_all(client_), "reply");
  EXPECT_EQ(open(*records, client_sends("again")), "again");

  // Our own update, unasked, and a request for theirs.
  wire.clear();
  records->seal_key_update(true, wire);
  records->seal("new key", wire);
  feed(client_, wire);
  EXPECT_EQ(read_all(client_), "new key");
  EXPECT_EQ(open(*records, client_sends("their new key")), "their new key");
}

TEST_P(Tls13RecordsTest, EndsAtCloseNotify) {
  auto records = connect();
  ASSERT_TRUE(records);
  std::string wire = client_sends("last words");
  SSL_shutdown(client_);
  wire += drain(client_);
  auto opened = records->open(wire.data(), wire.size());
  EXPECT_EQ(opened.error, nullptr);
  EXPECT_TRUE(opened.closed);
  EXPECT_EQ(wire.substr(0, opened.app_bytes), "last words");

  std::string alert;
  records->seal_alert(1, 0, alert);
  feed(client_, alert);
  char c;
  EXPECT_LE(SSL_read(client_, &c, 1), 0);
  EXPECT_EQ(SSL_get_error(client_, 0), SSL_ERROR_ZERO_RETURN);
}

TEST_P(Tls13RecordsTest, RejectsTamperedAndUnprotectedRecords) {
  auto records = connect();
  ASSERT_TRUE(records);
  std::string wire = client_sends("payload");
  wire[wire.size() - 20] ^= 1;
  auto opened = records->open(wire.data(), wire.size());
  EXPECT_NE(opened.error, nullptr);
  EXPECT_EQ(opened.alert, 20) << "bad_record_mac";

  std::string plain_handshake("\x16\x03\x03\x00\x05\x18\x00\x00\x01\x00", 10);
  opened = records->open(plain_handshake.data(), plain_handshake.size());
  EXPECT_EQ(opened.alert, 10) << "unexpected_message";

  std::string oversized("\x17\x03\x03\x41\x01", 5);
  opened = records->open(oversized.data(), oversized.size());
  EXPECT_EQ(opened.alert, 22) << "record_overflow";
}

// OpenSSL 3 ends a connection at the 5th warning alert in a row; a peer
// that sends KeyUpdates without data between them is held to the same.
TEST_P(Tls13RecordsTest, FifthKeyUpdateInARowIsFatal) {
  auto records = connect();
  ASSERT_TRUE(records);
  auto key_updates = [&](int n) {
    std::string wire;
    for (int i = 0; i < n; ++i) {
      EXPECT_EQ(SSL_key_update(client_, SSL_KEY_UPDATE_NOT_REQUESTED), 1);
      SSL_do_handshake(client_);  // sends it
      wire += drain(client_);
    }
    return wire;
  };
  std::string wire = key_updates(4);
  wire += client_sends("data resets the count");
  EXPECT_EQ(open(*records, wire), "data resets the count");
  wire = key_updates(4);
  EXPECT_EQ(open(*records, wire), "");
  wire = key_updates(1);
  auto opened = records->open(wire.data(), wire.size());
  EXPECT_STREQ(opened.error, "too many KeyUpdates in a row");
  EXPECT_EQ(opened.alert, 10) << "unexpected_message";
}

// RFC 8446 §5.5: at most 2^24.5 records under one AES-GCM key. With the
// limit set to 4 the fourth record under each key is our KeyUpdate, and
// OpenSSL's client follows every one of them.
TEST_P(Tls13RecordsTest, UpdatesItsKeyBeforeTheRecordLimit) {
  auto records = connect();
  ASSERT_TRUE(records);
  const bool chacha = std::string(GetParam()) == "TLS_CHACHA20_POLY1305_SHA256";
  EXPECT_EQ(records->records_per_key(), chacha ? UINT64_MAX : 23726566u);
  records->set_records_per_key(4);
  std::string wire, expected;
  for (int i = 0; i < 10; ++i) {
    std::string stanza = "<message id='" + std::to_string(i) + "'/>";
    records->seal(stanza, wire);
    expected += stanza;
  }
  const std::size_t key_update = 5 + 5 + 1 + 16;
  EXPECT_EQ(wire.size(), expected.size() + 10 * (5 + 1 + 16) + 3 * key_update);
  feed(client_, wire);
  EXPECT_EQ(read_all(client_), expected);
  EXPECT_EQ(open(*records, client_sends("still in step")), "still in step");
}

INSTANTIATE_TEST_SUITE_P(Suites, Tls13RecordsTest,
                         ::testing::Values("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                                           "TLS_CHACHA20_POLY1305_SHA256"));

// Two ends made from the same secrets, without OpenSSL.
TrafficSecrets made_up_secrets() {
  return {0x1301, std::string(32, 'c'), std::string(32, 's')};
}

TEST(Tls13Records, RefusesUnknownSuitesAndWrongSecretLengths) {
  EXPECT_EQ(Tls13Records::server({0x1304, std::string(32, 'c'), std::string(32, 's')}), nullptr);
  EXPECT_EQ(Tls13Records::server({0x1302, std::string(32, 'c'), std::string(32, 's')}), nullptr);
  EXPECT_NE(Tls13Records::server(made_up_secrets()), nullptr);
}

TEST(Tls13Records, PeerAlertsEndTheConnectionButUserCanceledDoesNot) {
  auto server = Tls13Records::server(made_up_secrets());
  auto client = Tls13Records::client(made_up_secrets());
  std::string wire;
  client->seal_alert(1, 90, wire);  // user_canceled: wait for close_notify
  client->seal("still here", wire);
  auto opened = server->open(wire.data(), wire.size());
  EXPECT_EQ(opened.error, nullptr);
  EXPECT_EQ(wire.substr(0, opened.app_bytes), "still here");

  wire.clear();
  client->seal_alert(2, 40, wire);  // handshake_failure
  opened = server->open(wire.data(), wire.size());
  EXPECT_NE(opened.error, nullptr);
  EXPECT_EQ(opened.alert, 0) << "no alert in answer to an alert";
}

// OpenSSL 3 (checked against 3.0.19's server): the 33rd empty record in a
// row is a fatal unexpected_message; application data resets the count.
TEST(Tls13Records, ThirtyThirdEmptyRecordInARowIsFatal) {
  auto server = Tls13Records::server(made_up_secrets());
  auto client = Tls13Records::client(made_up_secrets());
  std::string wire;
  for (int i = 0; i < 32; ++i) client->seal_empty(wire);
  client->seal("x", wire);
  for (int i = 0; i < 32; ++i) client->seal_empty(wire);
  auto opened = server->open(wire.data(), wire.size());
  EXPECT_EQ(opened.error, nullptr);
  EXPECT_EQ(wire.substr(0, opened.app_bytes), "x");
  wire.clear();
  client->seal_empty(wire);
  opened = server->open(wire.data(), wire.size());
  EXPECT_STREQ(opened.error, "too many empty records in a row");
  EXPECT_EQ(opened.alert, 10) << "unexpected_message";
}

// OpenSSL 3: the 5th warning alert in a row (in TLS 1.3 only user_canceled
// is one) is fatal. Other records without data do not reset the count.
TEST(Tls13Records, FifthUserCanceledInARowIsFatal) {
  auto server = Tls13Records::server(made_up_secrets());
  auto client = Tls13Records::client(made_up_secrets());
  std::string wire;
  for (int i = 0; i < 4; ++i) client->seal_alert(1, 90, wire);
  client->seal("y", wire);
  for (int i = 0; i < 4; ++i) client->seal_alert(1, 90, wire);
  client->seal_key_update(false, wire);
  client->seal_empty(wire);
  auto opened = server->open(wire.data(), wire.size());
  EXPECT_EQ(opened.error, nullptr);
  EXPECT_EQ(wire.substr(0, opened.app_bytes), "y");
  wire.clear();
  client->seal_alert(1, 90, wire);
  opened = server->open(wire.data(), wire.size());
  EXPECT_STREQ(opened.error, "too many user_canceled alerts in a row");
  EXPECT_EQ(opened.alert, 10) << "unexpected_message";
}

TEST(Tls13Records, WipedRecordsRefuseToSealOrOpen) {
  auto server = Tls13Records::server(made_up_secrets());
  auto client = Tls13Records::client(made_up_secrets());
  std::string wire;
  client->seal("before", wire);
  std::string copy = wire;
  server->wipe();
  EXPECT_NE(server->open(wire.data(), wire.size()).error, nullptr);
  std::string out;
  EXPECT_THROW(server->seal("after", out), std::logic_error);
  EXPECT_EQ(out, "");
  // Connections with the same keys, sharing this thread's cipher contexts
  // with the wiped one, are unaffected.
  auto again = Tls13Records::server(made_up_secrets());
  auto opened = again->open(copy.data(), copy.size());
  EXPECT_EQ(opened.error, nullptr);
  EXPECT_EQ(copy.substr(0, opened.app_bytes), "before");
}

TEST(Tls13Records, ReplayedRecordFailsAuthentication) {
  auto server = Tls13Records::server(made_up_secrets());
  auto client = Tls13Records::client(made_up_secrets());
  std::string wire;
  client->seal("once", wire);
  std::string copy = wire;
  EXPECT_EQ(server->open(wire.data(), wire.size()).app_bytes, 4u);
  EXPECT_EQ(server->open(copy.data(), copy.size()).alert, 20) << "sequence number moved on";
}

TEST(Tls13Records, Tls12KeepsOpenSsl) {
  auto dir = fs::temp_directory_path() / ("tern-tls12-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  auto server_ctx = make_server_context(ensure_certificate("", "", dir.string(), {"localhost"}));
  SSL_CTX* client_ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_max_proto_version(client_ctx, TLS1_2_VERSION);
  SSL* client = memory_ssl(client_ctx);
  SSL* server = memory_ssl(server_ctx->native_handle());
  SSL_set_connect_state(client);
  SSL_set_accept_state(server);
  for (int i = 0; i < 10; ++i) {
    SSL_do_handshake(client);
    pump(client, server);
    SSL_do_handshake(server);
    pump(server, client);
  }
  ASSERT_TRUE(SSL_is_init_finished(server));
  EXPECT_EQ(take_tls13_records(server), nullptr);
  SSL_free(client);
  SSL_free(server);
  SSL_CTX_free(client_ctx);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace tern::transport
