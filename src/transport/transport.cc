#include "transport/transport.h"

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

namespace tern::transport {

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
}

Transport::~Transport() = default;

awaitable<std::size_t> Transport::read_some(asio::mutable_buffer buf) {
  if (tls_) co_return co_await tls_->async_read_some(buf, use_awaitable);
  co_return co_await socket_.async_read_some(buf, use_awaitable);
}

awaitable<void> Transport::write_all(std::string_view bytes) {
  auto buf = asio::buffer(bytes.data(), bytes.size());
  if (tls_) {
    co_await asio::async_write(*tls_, buf, use_awaitable);
  } else {
    co_await asio::async_write(socket_, buf, use_awaitable);
  }
}

awaitable<void> Transport::start_tls(asio::ssl::context& ctx) {
  tls_.emplace(socket_, ctx);
  co_await tls_->async_handshake(asio::ssl::stream_base::server, use_awaitable);
}

void Transport::close() {
  boost::system::error_code ec;
  socket_.shutdown(tcp::socket::shutdown_both, ec);
  socket_.close(ec);
}

}  // namespace tern::transport
