// One TCP connection that may become TLS part-way (STARTTLS) or start as TLS
// (XEP-0368 direct TLS). The stream layer reads and writes through this and
// never cares which it is. One read and one write may be in flight at once.
//
// TLS runs OpenSSL straight on the non-blocking socket, waiting for
// readiness with Asio, instead of through asio::ssl::stream: that one keeps
// two 17 KiB buffers per connection for life, while OpenSSL alone (with
// SSL_MODE_RELEASE_BUFFERS) gives its record buffers back whenever the
// connection is idle — most connections, most of the time.
#pragma once

#include <openssl/ssl.h>

#include <string>
#include <string_view>

#include <boost/asio/ssl/context.hpp>

#include "core/asio.h"

namespace tern::transport {

class Transport {
 public:
  explicit Transport(tcp::socket socket);
  ~Transport();
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  // Waits until bytes can be read, then reads them into `buf` without
  // suspending again: `buf` is touched only in the final synchronous step,
  // so one buffer can serve every connection of a shard as long as the
  // caller consumes it before its own next co_await. Idle connections thus
  // hold no read buffer at all.
  awaitable<std::size_t> read_some(asio::mutable_buffer buf);
  awaitable<void> write_all(std::string_view bytes);
  // Server side TLS handshake over the connection as it is now.
  awaitable<void> start_tls(asio::ssl::context& ctx);

  bool is_tls() const { return ssl_ != nullptr; }
  SSL* ssl() { return ssl_; }
  // Shuts the TCP connection down in both directions; pending reads end.
  void close();
  bool is_open() const { return socket_.is_open(); }
  const std::string& remote_ip() const { return remote_ip_; }
  tcp::socket& socket() { return socket_; }

 private:
  // Waits for what OpenSSL asked for after a call that returned `ret`;
  // throws for errors and for the peer's close.
  awaitable<void> wait_for_tls(int ret);

  tcp::socket socket_;
  SSL* ssl_ = nullptr;
  std::string remote_ip_;
};

}  // namespace tern::transport
