#include "stream/c2s_session.h"

#include <boost/asio/ssl/error.hpp>

#include "core/log.h"
#include "transport/tls.h"
#include "xmpp/namespaces.h"
#include "xml/serializer.h"

namespace tern::stream {
namespace {

using xmpp::StreamCondition;
using Clock = std::chrono::steady_clock;

}  // namespace

xmpp::StreamCondition condition_of(xml::ParseError e) {
  switch (e) {
    case xml::ParseError::kRestrictedXml: return StreamCondition::kRestrictedXml;
    case xml::ParseError::kPolicyViolation: return StreamCondition::kPolicyViolation;
    case xml::ParseError::kBadNamespacePrefix: return StreamCondition::kBadNamespacePrefix;
    case xml::ParseError::kUnsupportedEncoding: return StreamCondition::kUnsupportedEncoding;
    case xml::ParseError::kInvalidNamespace: return StreamCondition::kInvalidNamespace;
    case xml::ParseError::kBadFormat: return StreamCondition::kBadFormat;
    case xml::ParseError::kNotWellFormed: break;
  }
  return StreamCondition::kNotWellFormed;
}

void C2SSession::start(C2SContext& ctx, unsigned shard, tcp::socket socket, bool direct_tls) {
  auto session = std::make_shared<C2SSession>(ctx, shard, std::move(socket), direct_tls);
  asio::co_spawn(session->executor_, [session]() { return session->run(); }, asio::detached);
}

C2SSession::C2SSession(C2SContext& ctx, unsigned shard, tcp::socket socket, bool direct_tls)
    : ClientStream(ctx, shard, socket.get_executor(), transport::peer_address(socket), "c2s", StreamKind::kTcp),
      transport_(std::move(socket)),
      parser_(xml::ParserLimits{static_cast<std::size_t>(ctx.config.max_stanza_bytes),
                                static_cast<std::size_t>(ctx.config.max_xml_depth),
                                static_cast<std::size_t>(ctx.config.max_attributes)},
              ctx.parser_pools.empty() ? nullptr : ctx.parser_pools[shard].get()),
      direct_tls_(direct_tls),
      outbox_(transport_, executor_, [this] { return log_id(); }) {}

awaitable<void> C2SSession::run() {
  auto self = shared_from_this();
  start_watchdog();
  spdlog::debug("{}: connected{}", log_id(), direct_tls_ ? " (direct TLS)" : "");
  try {
    if (direct_tls_) {
      if (!ctx_.tls) co_return finish();
      co_await transport_.start_tls(*ctx_.tls);
    }
    auto& buf = ctx_.read_buffers[shard()];
    while (state_ != State::kClosed) {
      std::size_t n = co_await transport_.read_some(asio::buffer(buf));
      touch();
      parser_.feed(std::string_view(buf.data(), n));
      while (state_ != State::kClosed) {
        auto event = parser_.next();
        if (!event) break;
        co_await handle(*event);
        if (restart_) {
          // STARTTLS or SASL success: the next byte belongs to a new stream.
          restart_ = false;
          parser_.reset();
          break;
        }
        co_await pace();
      }
    }
  } catch (const boost::system::system_error& e) {
    // EOF, reset, TLS alert, or our own close(): the connection is gone.
    if (e.code() != asio::error::eof && e.code() != asio::error::operation_aborted)
      spdlog::debug("{}: connection ended: {}", log_id(), e.code().message());
  } catch (const std::exception& e) {
    spdlog::error("{}: {}", log_id(), e.what());
  }
  finish();
}

awaitable<void> C2SSession::handle(xml::StreamEvent& event) {
  if (auto* open = std::get_if<xml::StreamOpen>(&event)) {
    on_header(open->header, open->content_ns == ns::kClient);
  } else if (auto* st = std::get_if<xml::StreamStanza>(&event)) {
    co_await on_element(st->element);
  } else if (std::holds_alternative<xml::StreamClose>(event)) {
    on_peer_close();
  } else if (auto* f = std::get_if<xml::StreamFailure>(&event)) {
    spdlog::info("{}: bad XML ({}): {}", log_id(), xml::condition_name(f->error), f->detail);
    fail(condition_of(f->error));
    // The parser is done with this stream, so the peer's closing tag could
    // not be read: hang up once our error has gone out.
    co_await drain();
    finish();
  }
}

awaitable<void> C2SSession::on_starttls() {
  if (!ctx_.tls || transport_.is_tls() || state_ != State::kNegotiating) {
    // RFC 6120 §5.4.2.2: <failure/>, close the stream and the TCP
    // connection, without waiting for the peer's closing tag.
    write_top("<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    close_stream();
    co_await drain();
    finish();
    co_return;
  }
  write_top("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
  co_await drain();
  restart_ = true;
  header_sent_ = false;
  co_await transport_.start_tls(*ctx_.tls);
  spdlog::debug("{}: TLS established ({})", log_id(), transport_.tls_version());
}

void C2SSession::write_stream_open(std::string_view attributes) {
  auto& out = outbox_.pending();
  out += "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
         "xmlns:stream='http://etherx.jabber.org/streams'";
  out += attributes;
  out += '>';
  start_flush();
}

void C2SSession::write_stream_close() { write_top("</stream:stream>"); }

// Straight into the outbox: no string per stanza.
void C2SSession::write_stanza(const xml::Element& el) {
  xml::serialize(outbox_.pending(), el, ns::kClient);
  start_flush();
}

void C2SSession::write_top(std::string_view bytes) {
  if (state_ == State::kClosed) return;
  outbox_.append(bytes, shared_from_this());
}

void C2SSession::write_serialized(std::string_view stanza) { write_top(stanza); }

awaitable<void> C2SSession::drain() { co_await outbox_.drain(); }

}  // namespace tern::stream
