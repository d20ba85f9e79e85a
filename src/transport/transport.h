// One TCP connection that may become TLS part-way (STARTTLS) or start as TLS
// (XEP-0368 direct TLS). The stream layer reads and writes through this and
// never cares which it is. One read and one write may be in flight at once.
//
// TLS runs OpenSSL straight on the non-blocking socket, waiting for
// readiness with Asio, instead of through asio::ssl::stream: that one keeps
// two 17 KiB buffers per connection for life, while OpenSSL alone (with
// SSL_MODE_RELEASE_BUFFERS) gives its record buffers back whenever the
// connection is idle — most connections, most of the time. After a TLS 1.3
// handshake even the SSL object goes: Tls13Records protects the records
// with a few hundred bytes of keys (see tls13_records.h).
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/ssl/context.hpp>

#include "core/asio.h"
#include "transport/tls.h"

namespace tern::transport {

// The peer's address as text, an IPv4-mapped IPv6 peer as plain IPv4 (so
// per-address limits see one address); empty when the socket has no peer.
std::string peer_address(const tcp::socket& socket);

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
  // hold no read buffer at all. Over TLS 1.3, `buf` must hold a whole
  // record (kMaxTls13Record bytes).
  awaitable<std::size_t> read_some(asio::mutable_buffer buf);
  awaitable<void> write_all(std::string_view bytes);
  // Server side TLS handshake over the connection as it is now.
  awaitable<void> start_tls(asio::ssl::context& ctx);
  // Client side (outgoing server links): SNI `server_name`; OpenSSL keeps
  // the connection (no Tls13Records: that layer is server-side only).
  awaitable<void> start_tls_client(asio::ssl::context& ctx, const std::string& server_name);
  // The certificate the peer showed, if the context asked for one (s2s),
  // and whether it chained to a trusted CA (X509_V_OK). Kept after the
  // handshake because the SSL object may be gone by then.
  X509* peer_certificate() const { return peer_cert_.get(); }
  bool peer_certificate_trusted() const { return peer_cert_trusted_; }

  bool is_tls() const { return ssl_ != nullptr || records_ != nullptr; }
  // "TLSv1.3" and the like; empty before TLS.
  const char* tls_version() const { return tls_version_; }
  // Read at the end of the handshake; null without TLS or once forgotten.
  const ChannelBindings* channel_bindings() const { return bindings_.get(); }
  // After authentication nothing binds to the channel any more.
  void forget_channel_bindings() { bindings_.reset(); }
  // Shuts the TCP connection down in both directions; pending reads end.
  // Sends close_notify first unless the TLS connection failed, and erases
  // the TLS keys.
  void close();
  bool is_open() const { return socket_.is_open(); }
  const std::string& remote_ip() const { return remote_ip_; }
  tcp::socket& socket() { return socket_; }

 private:
  // Waits for what OpenSSL asked for after a call that returned `ret`;
  // throws for errors and for the peer's close.
  awaitable<void> wait_for_tls(int ret);
  awaitable<std::size_t> read_records(asio::mutable_buffer buf);
  awaitable<void> write_records(std::string_view bytes);
  // Writes what the socket takes now, without waiting; returns the rest.
  std::string_view write_now(std::string_view bytes);
  // Best effort, never waits: skipped while a record is half written.
  void send_alert_now(std::uint8_t level, std::uint8_t description);

  tcp::socket socket_;
  SSL* ssl_ = nullptr;  // OpenSSL, during the handshake and for TLS 1.2
  std::unique_ptr<Tls13Records> records_;  // TLS 1.3 after the handshake
  std::string partial_record_;  // a record cut short by the last read
  bool peer_closed_ = false;    // close_notify seen after the last data
  bool writing_ = false;        // a record is half written
  // A fatal alert went out or came in: the connection ends without
  // close_notify (RFC 8446 §6.2) and nothing more is written.
  bool failed_ = false;
  // The last read left the socket empty. Then the next read waits first:
  // another recv() would only say EAGAIN, and the wait costs one syscall
  // either way (Asio re-arms epoll, which reports data that came meanwhile).
  bool drained_ = false;
  const char* tls_version_ = "";
  std::unique_ptr<ChannelBindings> bindings_;
  std::string remote_ip_;
  struct X509Free {
    void operator()(X509* c) const { X509_free(c); }
  };
  std::unique_ptr<X509, X509Free> peer_cert_;
  bool peer_cert_trusted_ = false;
  void keep_peer_certificate();
};

}  // namespace tern::transport
