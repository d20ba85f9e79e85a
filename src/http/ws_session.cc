#include "http/ws_session.h"

#include "core/log.h"
#include "xmpp/namespaces.h"
#include "xml/serializer.h"

namespace tern::http {
namespace {

using xmpp::StreamCondition;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kFramingNs = "urn:ietf:params:xml:ns:xmpp-framing";
// Messages are parsed as children of this (never sent) stream header, so one
// StreamParser with its limits serves the whole connection.
constexpr std::string_view kSyntheticHeader =
    "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>";

bool is_blank(std::string_view s) {
  return s.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

}  // namespace

std::string with_attribute(std::string_view xml, std::string_view attribute) {
  std::string out;
  out.reserve(xml.size() + attribute.size());
  auto name_end = xml.find_first_of(" />", 1);
  if (xml.empty() || xml.front() != '<' || name_end == std::string_view::npos) return std::string(xml);
  out.append(xml.substr(0, name_end));
  out.append(attribute);
  out.append(xml.substr(name_end));
  return out;
}

void WsSession::start(stream::C2SContext& ctx, unsigned shard, asio::any_io_executor executor,
                      std::unique_ptr<WsLink> link, std::string remote_ip, bool confidential) {
  auto session = std::make_shared<WsSession>(ctx, shard, executor, std::move(link),
                                             std::move(remote_ip), confidential);
  asio::co_spawn(executor, [session] { return session->run(); }, asio::detached);
}

WsSession::WsSession(stream::C2SContext& ctx, unsigned shard, asio::any_io_executor executor,
                     std::unique_ptr<WsLink> link, std::string remote_ip, bool confidential)
    : ClientStream(ctx, shard, executor, std::move(remote_ip), "ws", stream::StreamKind::kWebSocket),
      link_(std::move(link)),
      parser_(xml::ParserLimits{static_cast<std::size_t>(ctx.config.max_stanza_bytes),
                                static_cast<std::size_t>(ctx.config.max_xml_depth),
                                static_cast<std::size_t>(ctx.config.max_attributes)}),
      confidential_(confidential || link_->is_tls()),
      drained_(executor) {
  parser_.feed(kSyntheticHeader);
  (void)parser_.next();  // the StreamOpen of our own header
}

awaitable<void> WsSession::run() {
  auto self = shared_from_this();
  start_watchdog();
  spdlog::debug("{}: connected (WebSocket{})", log_id(), link_->is_tls() ? " over TLS" : "");
  try {
    std::string message;
    while (state_ != State::kClosed) {
      message.clear();
      const bool text = co_await link_->read_message(message);
      touch();
      if (!text) {
        // RFC 7395 §3.2: XMPP goes in text messages only.
        spdlog::info("{}: binary WebSocket message", log_id());
        close_code_ = kWsUnsupportedData;
        fail(StreamCondition::kBadFormat, "binary message");
        finish();
        break;
      }
      co_await on_message(message);
      co_await pace();
    }
  } catch (const boost::system::system_error& e) {
    spdlog::debug("{}: connection ended: {}", log_id(), e.code().message());
  } catch (const std::exception& e) {
    spdlog::error("{}: {}", log_id(), e.what());
  }
  finish();
}

awaitable<void> WsSession::on_message(std::string_view text) {
  if (is_blank(text)) co_return;
  parser_.feed(text);
  // The whole message first: it must hold exactly one complete element
  // (RFC 7395 §3.3.3), checked before any of it acts.
  std::optional<xml::Element> element;
  bool extra = false;
  while (auto event = parser_.next()) {
    if (auto* f = std::get_if<xml::StreamFailure>(&*event)) {
      spdlog::info("{}: bad XML ({}): {}", log_id(), xml::condition_name(f->error), f->detail);
      fail(stream::condition_of(f->error));
      finish();
      co_return;
    }
    auto* st = std::get_if<xml::StreamStanza>(&*event);
    if (!st || element) {
      extra = true;
      break;
    }
    element = std::move(st->element);
  }
  if (extra) {
    fail(StreamCondition::kBadFormat, "one element per WebSocket message");
    finish();
    co_return;
  }
  if (!element) {
    fail(StreamCondition::kNotWellFormed, "incomplete element in a WebSocket message");
    finish();
    co_return;
  }
  auto& el = *element;
  if (el.ns() == kFramingNs && el.name() == "open") {
    on_header(el, true);
  } else if (el.ns() == kFramingNs && el.name() == "close") {
    on_peer_close();
    finish();  // we answered with <close/>; the server closes the connection
  } else {
    co_await on_element(el);
  }
}

void WsSession::write_stream_open(std::string_view attributes) {
  std::string open = "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing'";
  open += attributes;
  open += "/>";
  queue(std::move(open));
}

void WsSession::write_stream_close() {
  queue("<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>");
}

void WsSession::write_top(std::string_view xml) {
  // stream:features and stream:error need their prefix declared here.
  if (xml.starts_with("<stream:")) {
    queue(with_attribute(xml, " xmlns:stream='http://etherx.jabber.org/streams'"));
  } else {
    queue(std::string(xml));
  }
}

void WsSession::write_stanza(const xml::Element& stanza) {
  std::string text;
  xml::serialize(text, stanza, ns::kClient);
  write_serialized(text);
}

void WsSession::write_serialized(std::string_view stanza) {
  queue(with_attribute(stanza, " xmlns='jabber:client'"));
}

void WsSession::queue(std::string message) {
  if (state_ == State::kClosed || close_after_write_) return;
  outbox_.push_back(std::move(message));
  if (!writing_) {
    writing_ = true;
    asio::co_spawn(executor_, [self = shared_from_this(), this] { return write_loop(); },
                   asio::detached);
  }
}

awaitable<void> WsSession::write_loop() {
  try {
    while (!outbox_.empty()) {
      std::string message = std::move(outbox_.front());
      outbox_.pop_front();
      co_await link_->write_message(message);
    }
    if (close_after_write_) co_await link_->close(close_code_);
  } catch (const boost::system::system_error& e) {
    spdlog::debug("{}: write failed: {}", log_id(), e.code().message());
    outbox_.clear();
    close_after_write_ = true;
  }
  if (close_after_write_) link_->abort();
  writing_ = false;
  drained_.cancel();
}

awaitable<void> WsSession::drain() {
  while (writing_) {
    drained_.expires_at(Clock::time_point::max());
    boost::system::error_code ec;
    co_await drained_.async_wait(asio::redirect_error(use_awaitable, ec));
  }
}

void WsSession::close_transport() {
  if (close_after_write_) return;
  close_after_write_ = true;
  if (!writing_) {
    writing_ = true;
    asio::co_spawn(executor_, [self = shared_from_this(), this] { return write_loop(); },
                   asio::detached);
  }
}

}  // namespace tern::http
