// A client-to-server stream over TCP (RFC 6120): STARTTLS or direct TLS,
// bytes through the expat StreamParser. One coroutine reads; writes are
// queued and flushed in batches. The stream logic itself is ClientStream's.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "core/asio.h"
#include "stream/client_stream.h"
#include "transport/outbox.h"
#include "transport/transport.h"
#include "xml/stream_parser.h"

namespace tern::stream {

class C2SSession final : public ClientStream {
 public:
  // Takes over an accepted socket on `shard` (the caller's own shard).
  static void start(C2SContext& ctx, unsigned shard, tcp::socket socket, bool direct_tls);

  C2SSession(C2SContext& ctx, unsigned shard, tcp::socket socket, bool direct_tls);

 private:
  awaitable<void> run();
  awaitable<void> handle(xml::StreamEvent& event);

  void write_stream_open(std::string_view attributes) override;
  void write_stream_close() override;
  void write_top(std::string_view xml) override;
  void write_stanza(const xml::Element& stanza) override;
  void write_serialized(std::string_view stanza) override;
  awaitable<void> drain() override;
  void close_transport() override { transport_.close(); }
  bool is_confidential() const override { return transport_.is_tls(); }
  const transport::ChannelBindings* channel_bindings() const override {
    return transport_.channel_bindings();
  }
  void forget_channel_bindings() override { transport_.forget_channel_bindings(); }
  bool offers_starttls() const override { return ctx_.tls && !transport_.is_tls(); }
  bool requires_starttls() const override {
    return offers_starttls() && ctx_.config.require_starttls;
  }
  awaitable<void> on_starttls() override;
  void on_stream_restart() override { restart_ = true; }

  void start_flush() { outbox_.start(shared_from_this()); }

  transport::Transport transport_;
  xml::StreamParser parser_;
  bool direct_tls_;
  bool restart_ = false;  // parser must restart before the next byte
  transport::Outbox outbox_;
};

}  // namespace tern::stream
