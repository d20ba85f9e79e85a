// Accepts connections on one address, on one shard (SO_REUSEPORT: every
// shard listens on the same address and the kernel spreads connections).
#pragma once

#include <functional>
#include <string>

#include "core/asio.h"

namespace tern::transport {

// "[::]:5222", "127.0.0.1:5347", "localhost:5222" → endpoint. Throws
// std::runtime_error for a bad address.
tcp::endpoint parse_endpoint(const std::string& address);

using AcceptHandler = std::function<void(tcp::socket)>;

class Listener {
 public:
  // Binds at once (throws std::system_error when the port is taken).
  Listener(asio::io_context& loop, const tcp::endpoint& ep, AcceptHandler on_accept);
  void start();  // begins accepting on the loop
  void stop();
  tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }

 private:
  awaitable<void> accept_loop();
  tcp::acceptor acceptor_;
  AcceptHandler on_accept_;
};

}  // namespace tern::transport
