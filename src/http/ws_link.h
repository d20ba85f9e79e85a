// One WebSocket connection as the XMPP session sees it: whole text messages
// in and out. The Beast stream behind it (plain or TLS) lives in
// http_connection.cc, the only file that instantiates Beast's templates.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/asio.h"
#include "transport/tls.h"

namespace tern::http {

class WsLink {
 public:
  virtual ~WsLink() = default;
  // Reads one whole message into `out`; false for a binary one. Throws
  // boost::system::system_error when the connection ends (a close frame
  // included).
  virtual awaitable<bool> read_message(std::string& out) = 0;
  virtual awaitable<void> write_message(std::string_view text) = 0;
  // Sends a close frame with `code` and waits for the peer's (bounded).
  virtual awaitable<void> close(std::uint16_t code) = 0;
  // Drops the TCP connection without ceremony.
  virtual void abort() = 0;
  virtual bool is_tls() const = 0;
  virtual const transport::ChannelBindings* channel_bindings() const = 0;
  virtual void forget_channel_bindings() = 0;
};

}  // namespace tern::http
