#include "transport/transport.h"

#include <openssl/err.h>

#include <boost/asio/write.hpp>

#include <cstring>
#include <stdexcept>

namespace tern::transport {
namespace {

// Where records are sealed before they go out: one per thread, reused, so a
// write that the socket takes at once allocates nothing.
thread_local std::string tl_sealed;

bool would_block(const boost::system::error_code& ec) {
  return ec == asio::error::would_block || ec == asio::error::try_again;
}

boost::system::system_error tls_error(int ssl_error) {
  unsigned long e = ERR_get_error();
  char text[256] = "TLS error";
  if (e) ERR_error_string_n(e, text, sizeof text);
  (void)ssl_error;
  return boost::system::system_error(asio::error::connection_aborted, text);
}

}  // namespace

std::string peer_address(const tcp::socket& socket) {
  boost::system::error_code ec;
  auto ep = socket.remote_endpoint(ec);
  if (ec) return {};
  auto addr = ep.address();
  if (addr.is_v6() && addr.to_v6().is_v4_mapped())
    addr = asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6());
  return addr.to_string();
}

Transport::Transport(tcp::socket socket)
    : socket_(std::move(socket)), remote_ip_(peer_address(socket_)) {
  boost::system::error_code ec;
  socket_.set_option(tcp::no_delay(true), ec);
  socket_.non_blocking(true, ec);
}

Transport::~Transport() {
  if (ssl_) SSL_free(ssl_);
}

awaitable<void> Transport::wait_for_tls(int ret) {
  int err = SSL_get_error(ssl_, ret);
  switch (err) {
    case SSL_ERROR_WANT_READ:
      co_await socket_.async_wait(tcp::socket::wait_read, use_awaitable);
      co_return;
    case SSL_ERROR_WANT_WRITE:
      co_await socket_.async_wait(tcp::socket::wait_write, use_awaitable);
      co_return;
    case SSL_ERROR_ZERO_RETURN:
      throw boost::system::system_error(asio::error::eof);
    case SSL_ERROR_SYSCALL:
      if (ERR_peek_error() == 0) throw boost::system::system_error(asio::error::eof);
      [[fallthrough]];
    default:
      // OpenSSL sent or received a fatal alert (it refuses SSL_shutdown
      // afterwards too; failed_ says so for every path).
      failed_ = true;
      throw tls_error(err);
  }
}

awaitable<std::size_t> Transport::read_some(asio::mutable_buffer buf) {
  if (records_) co_return co_await read_records(buf);
  if (!ssl_) {
    for (;;) {
      if (drained_) co_await socket_.async_wait(tcp::socket::wait_read, use_awaitable);
      boost::system::error_code ec;
      std::size_t n = socket_.read_some(buf, ec);  // non-blocking: never waits
      drained_ = ec || n < buf.size();
      if (!ec) co_return n;
      if (!would_block(ec)) throw boost::system::system_error(ec);
    }
  }
  for (;;) {
    ERR_clear_error();
    std::size_t n = 0;
    int ret = SSL_read_ex(ssl_, buf.data(), buf.size(), &n);
    if (ret == 1) co_return n;
    co_await wait_for_tls(ret);
  }
}

// Ciphertext goes into `buf` after what is left of a record cut short last
// time, and is opened there in place; only a new partial tail is copied out,
// to wait for the rest of its record.
awaitable<std::size_t> Transport::read_records(asio::mutable_buffer buf) {
  if (buf.size() < kMaxTls13Record) throw std::logic_error("read buffer smaller than a TLS record");
  auto* data = static_cast<char*>(buf.data());
  for (;;) {
    if (peer_closed_) throw boost::system::system_error(asio::error::eof);
    if (drained_) co_await socket_.async_wait(tcp::socket::wait_read, use_awaitable);
    // From here on no suspension: `buf` is this connection's until we return.
    std::size_t have = partial_record_.size();
    std::memcpy(data, partial_record_.data(), have);
    boost::system::error_code ec;
    std::size_t n = socket_.read_some(asio::buffer(data + have, buf.size() - have), ec);
    drained_ = ec || n < buf.size() - have;
    if (would_block(ec)) continue;
    if (ec == asio::error::eof && have > 0)
      throw boost::system::system_error(asio::error::connection_aborted, "TLS record cut short");
    if (ec) throw boost::system::system_error(ec);
    have += n;
    auto opened = records_->open(data, have);
    if (opened.error) {
      if (opened.alert) send_alert_now(2, opened.alert);
      failed_ = true;
      throw boost::system::system_error(asio::error::connection_aborted, opened.error);
    }
    if (opened.closed) {
      peer_closed_ = true;
      partial_record_ = std::string();
    } else if (opened.consumed == 0) {
      partial_record_.assign(data, have);
    } else {
      // std::string() rather than clear(): an idle connection keeps no capacity.
      std::string rest(data + opened.consumed, have - opened.consumed);
      partial_record_.swap(rest);
    }
    if (opened.app_bytes > 0) co_return opened.app_bytes;
  }
}

std::string_view Transport::write_now(std::string_view bytes) {
  while (!bytes.empty()) {
    boost::system::error_code ec;
    std::size_t n = socket_.write_some(asio::buffer(bytes.data(), bytes.size()), ec);
    if (would_block(ec)) break;
    if (ec) throw boost::system::system_error(ec);
    bytes.remove_prefix(n);
  }
  return bytes;
}

void Transport::send_alert_now(std::uint8_t level, std::uint8_t description) {
  // Not in the middle of another record; and a peer that stopped reading
  // does not get to hold the connection open.
  if (writing_) return;
  std::string alert;
  records_->seal_alert(level, description, alert);
  try {
    write_now(alert);
  } catch (const boost::system::system_error&) {
  }
}

awaitable<void> Transport::write_records(std::string_view bytes) {
  // Closed: the keys are gone (and there is no one to write to).
  if (!socket_.is_open()) throw boost::system::system_error(asio::error::bad_descriptor);
  tl_sealed.clear();
  records_->seal(bytes, tl_sealed);
  auto rest = write_now(tl_sealed);
  if (rest.empty()) co_return;
  // The socket is full: what is left must outlive this thread's next write.
  std::string pending(rest);
  writing_ = true;
  try {
    co_await asio::async_write(socket_, asio::buffer(pending), use_awaitable);
  } catch (...) {
    writing_ = false;
    throw;
  }
  writing_ = false;
}

awaitable<void> Transport::write_all(std::string_view bytes) {
  if (failed_)
    throw boost::system::system_error(asio::error::connection_aborted, "TLS connection failed");
  if (records_) {
    co_await write_records(bytes);
    co_return;
  }
  if (!ssl_) {
    co_await asio::async_write(socket_, asio::buffer(bytes.data(), bytes.size()), use_awaitable);
    co_return;
  }
  while (!bytes.empty()) {
    ERR_clear_error();
    std::size_t n = 0;
    int ret = SSL_write_ex(ssl_, bytes.data(), bytes.size(), &n);
    if (ret == 1) {
      bytes.remove_prefix(n);
      continue;
    }
    co_await wait_for_tls(ret);
  }
}

awaitable<void> Transport::start_tls(asio::ssl::context& ctx) {
  ssl_ = SSL_new(ctx.native_handle());
  if (!ssl_ || SSL_set_fd(ssl_, static_cast<int>(socket_.native_handle())) != 1)
    throw tls_error(0);
  // A write may be retried from a moved buffer (our batch string), and
  // partial writes let the batch shrink as records go out.
  SSL_set_mode(ssl_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_set_accept_state(ssl_);
  for (;;) {
    ERR_clear_error();
    int ret = SSL_do_handshake(ssl_);
    if (ret == 1) break;
    co_await wait_for_tls(ret);
  }
  drained_ = false;  // OpenSSL read from the socket; what is left there is unknown
  tls_version_ = SSL_get_version(ssl_);
  keep_peer_certificate();
  bindings_ = std::make_unique<ChannelBindings>(transport::channel_bindings(ssl_));
  if ((records_ = take_tls13_records(ssl_))) {
    SSL_free(ssl_);
    ssl_ = nullptr;
  }
}

void Transport::keep_peer_certificate() {
  if (X509* cert = SSL_get1_peer_certificate(ssl_)) {
    peer_cert_.reset(cert);
    peer_cert_trusted_ = SSL_get_verify_result(ssl_) == X509_V_OK;
  }
}

awaitable<void> Transport::start_tls_client(asio::ssl::context& ctx, const std::string& server_name) {
  ssl_ = SSL_new(ctx.native_handle());
  if (!ssl_ || SSL_set_fd(ssl_, static_cast<int>(socket_.native_handle())) != 1)
    throw tls_error(0);
  SSL_set_mode(ssl_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_set_tlsext_host_name(ssl_, server_name.c_str());
  SSL_set_connect_state(ssl_);
  for (;;) {
    ERR_clear_error();
    int ret = SSL_do_handshake(ssl_);
    if (ret == 1) break;
    co_await wait_for_tls(ret);
  }
  drained_ = false;
  tls_version_ = SSL_get_version(ssl_);
  keep_peer_certificate();
}

void Transport::close() {
  boost::system::error_code ec;
  // RFC 8446 §6.2: after a fatal alert the connection just ends.
  const bool say_goodbye = socket_.is_open() && !failed_;
  if (records_ && say_goodbye) send_alert_now(1, 0);  // close_notify
  if (ssl_ && say_goodbye) {
    // Best effort close_notify; the socket is non-blocking, so this never waits.
    ERR_clear_error();
    SSL_shutdown(ssl_);
  }
  if (records_) records_->wipe();
  socket_.shutdown(tcp::socket::shutdown_both, ec);
  socket_.close(ec);
}

}  // namespace tern::transport
