// Transport over a real loopback connection, with OpenSSL's client on the
// other end (through memory BIOs, so the test sees every byte on the wire):
// how a TLS connection ends.
#include "transport/transport.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "transport/tls.h"
#include "transport/tls13_records.h"

namespace tern::transport {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// The client's traffic secrets, from its key log, so that the test can seal
// records OpenSSL's API will not (a fatal alert of our choosing).
TrafficSecrets g_client_secrets;

std::string unhex(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  return out;
}

void log_client_secret(const SSL*, const char* line) {
  std::string_view text(line);
  auto label = text.substr(0, text.find(' '));
  auto secret = text.substr(text.rfind(' ') + 1);
  if (label == "CLIENT_TRAFFIC_SECRET_0") g_client_secrets.client = unhex(secret);
  if (label == "SERVER_TRAFFIC_SECRET_0") g_client_secrets.server = unhex(secret);
}

// The TLS record headers in `wire`: content type and length of each.
std::vector<std::pair<int, std::size_t>> records_in(const std::string& wire) {
  std::vector<std::pair<int, std::size_t>> out;
  for (std::size_t at = 0; at + 5 <= wire.size();) {
    auto* h = reinterpret_cast<const unsigned char*>(wire.data() + at);
    std::size_t length = (std::size_t{h[3]} << 8) | h[4];
    out.emplace_back(h[0], length);
    at += 5 + length;
  }
  return out;
}

class TransportTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tern-transport-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    server_ctx_ = make_server_context(ensure_certificate("", "", dir_.string(), {"localhost"}));
    client_ctx_ = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_max_proto_version(client_ctx_, GetParam());
    SSL_CTX_set_keylog_callback(client_ctx_, log_client_secret);
    client_ = SSL_new(client_ctx_);
    SSL_set_bio(client_, BIO_new(BIO_s_mem()), BIO_new(BIO_s_mem()));
    SSL_set_connect_state(client_);

    tcp::acceptor acceptor(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    socket_.connect(acceptor.local_endpoint());
    socket_.non_blocking(true);
    server_ = std::make_unique<Transport>(acceptor.accept());
    asio::co_spawn(io_, serve(), asio::detached);
  }
  void TearDown() override {
    SSL_free(client_);
    SSL_CTX_free(client_ctx_);
    fs::remove_all(dir_);
  }

  // The server side as a session drives it: handshake, read until the
  // first error, then close().
  awaitable<void> serve() {
    co_await server_->start_tls(*server_ctx_);
    handshake_done_ = true;
    std::vector<char> buf(kMaxTls13Record);
    try {
      for (;;) received_ += std::string(buf.data(), co_await server_->read_some(asio::buffer(buf)));
    } catch (const boost::system::system_error& e) {
      read_error_ = e.what();
    }
    server_->close();
    closed_ = true;
  }

  // Moves bytes both ways and runs the server until `done` or 5 seconds.
  template <class Done>
  void run_until(Done done) {
    const auto deadline = Clock::now() + std::chrono::seconds(5);
    while (!done() && Clock::now() < deadline) {
      send_client_output();
      char buf[4096];
      ssize_t n;
      while ((n = ::recv(socket_.native_handle(), buf, sizeof buf, 0)) > 0)
        from_server_.append(buf, static_cast<std::size_t>(n));
      if (n == 0) eof_ = true;
      io_.run_for(std::chrono::milliseconds(2));
    }
    ASSERT_TRUE(done()) << "timed out";
  }
  void send_client_output() {
    char buf[4096];
    int n;
    while ((n = BIO_read(SSL_get_wbio(client_), buf, sizeof buf)) > 0)
      send_raw(std::string(buf, n));
  }
  void send_raw(const std::string& bytes) {
    ASSERT_EQ(::send(socket_.native_handle(), bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
  }
  void handshake() {
    run_until([&] {
      SSL_do_handshake(client_);
      if (!from_server_.empty()) {
        BIO_write(SSL_get_rbio(client_), from_server_.data(),
                  static_cast<int>(from_server_.size()));
        from_server_.clear();
      }
      return handshake_done_ && SSL_is_init_finished(client_);
    });
  }
  // What the server sent from now until it closed the connection.
  std::string rest_until_closed() {
    from_server_.clear();
    run_until([&] { return closed_ && eof_; });
    return from_server_;
  }
  std::string sealed_by_client(std::string_view text) {
    SSL_write(client_, text.data(), static_cast<int>(text.size()));
    std::string out;
    char buf[4096];
    int n;
    while ((n = BIO_read(SSL_get_wbio(client_), buf, sizeof buf)) > 0) out.append(buf, n);
    return out;
  }

  fs::path dir_;
  asio::io_context io_;
  tcp::socket socket_{io_};
  std::unique_ptr<boost::asio::ssl::context> server_ctx_;
  std::unique_ptr<Transport> server_;
  SSL_CTX* client_ctx_ = nullptr;
  SSL* client_ = nullptr;
  std::string from_server_, received_, read_error_;
  bool handshake_done_ = false, closed_ = false, eof_ = false;
};

TEST_P(TransportTest, CleanCloseSendsCloseNotify) {
  handshake();
  send_raw(sealed_by_client("<stream:stream>"));
  run_until([&] { return !received_.empty(); });
  EXPECT_EQ(received_, "<stream:stream>");
  server_->close();
  std::string rest = rest_until_closed();
  ASSERT_EQ(records_in(rest).size(), 1u) << "close_notify and nothing else";
  BIO_write(SSL_get_rbio(client_), rest.data(), static_cast<int>(rest.size()));
  char c;
  EXPECT_LE(SSL_read(client_, &c, 1), 0);
  EXPECT_EQ(SSL_get_error(client_, 0), SSL_ERROR_ZERO_RETURN);
}

// RFC 8446 §6.2: after a fatal alert the connection closes at once, without
// close_notify. A tampered record gets bad_record_mac, and only that.
TEST_P(TransportTest, BadRecordGetsOneFatalAlertAndNoCloseNotify) {
  handshake();
  std::string wire = sealed_by_client("<presence/>");
  wire[wire.size() - 3] ^= 0x40;
  send_raw(wire);
  std::string rest = rest_until_closed();
  EXPECT_NE(read_error_, "");
  EXPECT_EQ(received_, "");
  auto records = records_in(rest);
  ASSERT_EQ(records.size(), 1u) << "one alert record, no close_notify after it";
  EXPECT_EQ(records[0].first, GetParam() == TLS1_3_VERSION ? 23 : 21);
  BIO_write(SSL_get_rbio(client_), rest.data(), static_cast<int>(rest.size()));
  char c;
  ERR_clear_error();
  EXPECT_LE(SSL_read(client_, &c, 1), 0);
  EXPECT_EQ(ERR_GET_REASON(ERR_peek_error()), SSL_R_SSLV3_ALERT_BAD_RECORD_MAC);
}

// A fatal alert from the peer ends the connection without a word back.
TEST_P(TransportTest, PeersFatalAlertGetsNoCloseNotify) {
  handshake();
  if (GetParam() == TLS1_3_VERSION) {
    g_client_secrets.suite =
        static_cast<std::uint16_t>(SSL_CIPHER_get_protocol_id(SSL_get_current_cipher(client_)));
    auto client = Tls13Records::client(g_client_secrets);
    ASSERT_NE(client, nullptr);
    std::string alert;
    client->seal_alert(2, 40, alert);  // handshake_failure
    send_raw(alert);
  } else {
    // TLS 1.2 records are OpenSSL's on both ends: a plaintext fatal alert
    // is refused as unexpected, which OpenSSL answers with its own alert.
    send_raw(std::string("\x15\x03\x03\x00\x02\x02\x28", 7));
  }
  std::string rest = rest_until_closed();
  EXPECT_NE(read_error_, "");
  // Whatever OpenSSL answers on TLS 1.2, no close_notify follows it.
  EXPECT_LE(records_in(rest).size(), 1u);
  if (GetParam() == TLS1_3_VERSION) EXPECT_EQ(rest, "") << "no alert in answer to an alert";
}

INSTANTIATE_TEST_SUITE_P(Versions, TransportTest, ::testing::Values(TLS1_3_VERSION, TLS1_2_VERSION),
                         [](const auto& info) {
                           return std::string(info.param == TLS1_3_VERSION ? "Tls13" : "Tls12");
                         });

}  // namespace
}  // namespace tern::transport
