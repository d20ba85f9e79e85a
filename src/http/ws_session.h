// XMPP over WebSocket (RFC 7395): a client stream whose framing is one
// element per text message, <open/> and <close/> in the framing namespace
// instead of the stream header and its end tag. Everything else (SASL,
// bind, features, limits, routing) is ClientStream's.
#pragma once

#include <deque>
#include <memory>
#include <string>

#include "http/ws_link.h"
#include "stream/client_stream.h"
#include "xml/stream_parser.h"

namespace tern::http {

// RFC 7395 close codes we use.
constexpr std::uint16_t kWsNormal = 1000;
constexpr std::uint16_t kWsUnsupportedData = 1003;  // a binary message

class WsSession final : public stream::ClientStream {
 public:
  // `confidential`: TLS or a trusted hop in front of plain HTTP.
  static void start(stream::C2SContext& ctx, unsigned shard, asio::any_io_executor executor,
                    std::unique_ptr<WsLink> link, std::string remote_ip, bool confidential);

  WsSession(stream::C2SContext& ctx, unsigned shard, asio::any_io_executor executor,
            std::unique_ptr<WsLink> link, std::string remote_ip, bool confidential);

 private:
  awaitable<void> run();
  awaitable<void> on_message(std::string_view text);
  awaitable<void> write_loop();

  void write_stream_open(std::string_view attributes) override;
  void write_stream_close() override;
  void write_top(std::string_view xml) override;
  void write_stanza(const xml::Element& stanza) override;
  void write_serialized(std::string_view stanza) override;
  awaitable<void> drain() override;
  void close_transport() override;
  bool is_confidential() const override { return confidential_; }
  const transport::ChannelBindings* channel_bindings() const override {
    return link_->channel_bindings();
  }
  void forget_channel_bindings() override { link_->forget_channel_bindings(); }
  bool offers_scram_in_clear() const override { return false; }

  void queue(std::string message);

  std::unique_ptr<WsLink> link_;
  xml::StreamParser parser_;  // primed with a synthetic stream header
  bool confidential_;
  std::deque<std::string> outbox_;  // whole messages, in order
  bool writing_ = false;
  bool close_after_write_ = false;
  std::uint16_t close_code_ = kWsNormal;
  asio::steady_timer drained_;
};

// Inserts `attribute` (" xmlns='jabber:client'") after the name of the
// first element in `xml`: a stanza or stream element serialised for a TCP
// stream becomes a stand-alone document.
std::string with_attribute(std::string_view xml, std::string_view attribute);

}  // namespace tern::http
