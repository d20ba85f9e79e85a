// What both directions of a server-to-server stream share: the connection,
// the parser, batched writes, the stream header. ServerIn (accepted) and
// ServerOut (initiated) add the protocol. Lives on one shard for life.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "core/asio.h"
#include "transport/outbox.h"
#include "transport/transport.h"
#include "xml/stream_parser.h"
#include "xmpp/errors.h"

namespace tern::stream {

class S2S;

class ServerStream : public std::enable_shared_from_this<ServerStream> {
 public:
  virtual ~ServerStream();
  ServerStream(const ServerStream&) = delete;
  ServerStream& operator=(const ServerStream&) = delete;

  unsigned shard() const { return shard_; }
  // Ends the stream with a stream error (shutdown: system-shutdown).
  virtual void close_with_error(xmpp::StreamCondition condition, std::string_view text = {});
  // One line for `tern status`: direction, domains, auth method, state.
  virtual std::string describe() const = 0;

 protected:
  ServerStream(S2S& s2s, unsigned shard, tcp::socket socket, const char* kind);

  // The stream header we send; `id` empty for an initiating stream.
  void write_header(std::string_view from, std::string_view to, std::string_view id, bool version);
  void write(std::string_view bytes);
  // Waits until everything written has gone out.
  awaitable<void> drain();
  // Sends </stream:stream> once and stops writing; the transport closes
  // after a grace period unless the peer closes first.
  void close_stream();
  // Sends a stream error, then closes.
  void fail(xmpp::StreamCondition condition, std::string_view text = {});
  // Reads and hands every event to on_event until the connection ends.
  awaitable<void> read_loop();
  virtual awaitable<void> on_event(xml::StreamEvent& event) = 0;
  // After the events of one read were handled: a reader may pause here
  // (rate limits) before the next read.
  virtual awaitable<void> after_read(std::size_t bytes) { co_return; }
  // The parser must start over before the next byte (STARTTLS, SASL).
  void restart_parser() { restart_ = true; }
  bool closing() const { return closing_; }
  std::string log_id() const;
  void touch() { last_activity_ = std::chrono::steady_clock::now(); }

  S2S& s2s_;
  unsigned shard_;
  asio::any_io_executor executor_;
  transport::Transport transport_;
  xml::StreamParser parser_;
  const char* kind_;
  std::uint64_t number_;
  std::chrono::steady_clock::time_point last_activity_;
  std::chrono::steady_clock::time_point closing_since_;

 private:
  transport::Outbox outbox_;
  bool restart_ = false;
  bool closing_ = false;
};

}  // namespace tern::stream
