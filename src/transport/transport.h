// One TCP connection that may become TLS part-way (STARTTLS) or start as TLS
// (XEP-0368 direct TLS). The stream layer reads and writes through this and
// never cares which it is. One read and one write may be in flight at once.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/ssl/stream.hpp>

#include "core/asio.h"

namespace tern::transport {

class Transport {
 public:
  explicit Transport(tcp::socket socket);
  ~Transport();

  awaitable<std::size_t> read_some(asio::mutable_buffer buf);
  awaitable<void> write_all(std::string_view bytes);
  // Server side TLS handshake over the connection as it is now.
  awaitable<void> start_tls(asio::ssl::context& ctx);

  bool is_tls() const { return tls_.has_value(); }
  SSL* ssl() { return tls_ ? tls_->native_handle() : nullptr; }
  // Shuts the TCP connection down in both directions; pending reads end.
  void close();
  bool is_open() const { return socket_.is_open(); }
  const std::string& remote_ip() const { return remote_ip_; }
  tcp::socket& socket() { return socket_; }

 private:
  tcp::socket socket_;
  std::optional<asio::ssl::stream<tcp::socket&>> tls_;
  std::string remote_ip_;
};

}  // namespace tern::transport
