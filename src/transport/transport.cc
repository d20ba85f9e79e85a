#include "transport/transport.h"

#include <openssl/err.h>

#include <boost/asio/write.hpp>

namespace tern::transport {
namespace {

boost::system::system_error tls_error(int ssl_error) {
  unsigned long e = ERR_get_error();
  char text[256] = "TLS error";
  if (e) ERR_error_string_n(e, text, sizeof text);
  (void)ssl_error;
  return boost::system::system_error(asio::error::connection_aborted, text);
}

}  // namespace

Transport::Transport(tcp::socket socket) : socket_(std::move(socket)) {
  boost::system::error_code ec;
  auto ep = socket_.remote_endpoint(ec);
  if (!ec) {
    auto addr = ep.address();
    // Report IPv4-mapped IPv6 peers as plain IPv4, so per-IP limits see one address.
    if (addr.is_v6() && addr.to_v6().is_v4_mapped())
      addr = asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6());
    remote_ip_ = addr.to_string();
  }
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
      throw tls_error(err);
  }
}

awaitable<std::size_t> Transport::read_some(asio::mutable_buffer buf) {
  if (!ssl_) {
    for (;;) {
      boost::system::error_code ec;
      std::size_t n = socket_.read_some(buf, ec);  // non-blocking: never waits
      if (!ec) co_return n;
      if (ec != asio::error::would_block && ec != asio::error::try_again)
        throw boost::system::system_error(ec);
      co_await socket_.async_wait(tcp::socket::wait_read, use_awaitable);
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

awaitable<void> Transport::write_all(std::string_view bytes) {
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
    if (ret == 1) co_return;
    co_await wait_for_tls(ret);
  }
}

void Transport::close() {
  boost::system::error_code ec;
  if (ssl_ && socket_.is_open()) {
    // Best effort close_notify; the socket is non-blocking, so this never waits.
    ERR_clear_error();
    SSL_shutdown(ssl_);
  }
  socket_.shutdown(tcp::socket::shutdown_both, ec);
  socket_.close(ec);
}

}  // namespace tern::transport
