#include "stream/server_stream.h"

#include "core/log.h"
#include "stream/c2s_session.h"
#include "stream/s2s.h"
#include "xmpp/namespaces.h"
#include "xml/serializer.h"

namespace tern::stream {
namespace {
using Clock = std::chrono::steady_clock;
}  // namespace

ServerStream::ServerStream(S2S& s2s, unsigned shard, tcp::socket socket, const char* kind)
    : s2s_(s2s),
      shard_(shard),
      executor_(socket.get_executor()),
      transport_(std::move(socket)),
      parser_(s2s.parser_limits(), nullptr),
      kind_(kind),
      number_(s2s.next_stream_number()),
      last_activity_(Clock::now()),
      outbox_(transport_, executor_, [this] { return log_id(); }) {
  s2s_.stream_opened(shard_, this);
}

ServerStream::~ServerStream() { s2s_.stream_closed(shard_, this); }

std::string ServerStream::log_id() const {
  return fmt::format("{}#{} {}", kind_, number_, transport_.remote_ip());
}

void ServerStream::write_header(std::string_view from, std::string_view to, std::string_view id,
                                bool version) {
  std::string h =
      "<?xml version='1.0'?><stream:stream xmlns='jabber:server' "
      "xmlns:stream='http://etherx.jabber.org/streams' xmlns:db='jabber:server:dialback'";
  if (!from.empty()) {
    h += " from='";
    xml::append_escaped_attr(h, from);
    h += '\'';
  }
  if (!to.empty()) {
    h += " to='";
    xml::append_escaped_attr(h, to);
    h += '\'';
  }
  if (!id.empty()) {
    h += " id='";
    xml::append_escaped_attr(h, id);
    h += '\'';
  }
  if (version) h += " version='1.0'";
  h += '>';
  write(h);
}

void ServerStream::write(std::string_view bytes) {
  if (closing_ || !transport_.is_open()) return;
  outbox_.append(bytes, shared_from_this());
}

awaitable<void> ServerStream::drain() { co_await outbox_.drain(); }

void ServerStream::close_stream() {
  if (closing_) return;
  write("</stream:stream>");
  closing_ = true;
  closing_since_ = Clock::now();
  // The peer has a few seconds to answer with its own closing tag.
  auto timer = std::make_shared<asio::steady_timer>(executor_, std::chrono::seconds(3));
  timer->async_wait([self = shared_from_this(), timer](const boost::system::error_code&) {
    self->transport_.close();
  });
}

void ServerStream::fail(xmpp::StreamCondition condition, std::string_view text) {
  if (closing_) return;
  spdlog::info("{}: stream error {}{}{}", log_id(), xmpp::condition_name(condition),
               text.empty() ? "" : ": ", text);
  write(xmpp::stream_error_xml(condition, text));
  close_stream();
}

void ServerStream::close_with_error(xmpp::StreamCondition condition, std::string_view text) {
  fail(condition, text);
}

awaitable<void> ServerStream::read_loop() {
  auto& buf = s2s_.read_buffer(shard_);
  while (transport_.is_open()) {
    std::size_t n = co_await transport_.read_some(asio::buffer(buf));
    touch();
    parser_.feed(std::string_view(buf.data(), n));
    while (transport_.is_open()) {
      auto event = parser_.next();
      if (!event) break;
      if (auto* f = std::get_if<xml::StreamFailure>(&*event)) {
        spdlog::info("{}: bad XML ({}): {}", log_id(), xml::condition_name(f->error), f->detail);
        fail(condition_of(f->error));
        co_await drain();
        transport_.close();
        co_return;
      }
      co_await on_event(*event);
      if (restart_) {
        restart_ = false;
        parser_.reset();
        break;
      }
    }
    co_await after_read(n);
  }
}

}  // namespace tern::stream
