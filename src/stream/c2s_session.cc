#include "stream/c2s_session.h"

#include <boost/asio/ssl/error.hpp>

#include "core/log.h"
#include "transport/tls.h"
#include "sasl/mechanism.h"
#include "xml/namespaces.h"
#include "xml/serializer.h"

namespace tern::stream {
namespace {

using xmpp::StreamCondition;
using Clock = std::chrono::steady_clock;

constexpr auto kCloseGrace = std::chrono::seconds(2);

std::string make_stream_id() {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string raw = sasl::random_bytes(12), id;
  for (unsigned char c : raw) {
    id += kHex[c >> 4];
    id += kHex[c & 15];
  }
  return id;
}

// "1.0" → {1, 0}; nullopt when absent or malformed.
std::optional<std::pair<int, int>> parse_version(std::string_view v) {
  auto dot = v.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == v.size()) return std::nullopt;
  int major = 0, minor = 0;
  for (char c : v.substr(0, dot)) {
    if (c < '0' || c > '9') return std::nullopt;
    major = major * 10 + (c - '0');
    if (major > 1000) return std::nullopt;
  }
  for (char c : v.substr(dot + 1)) {
    if (c < '0' || c > '9') return std::nullopt;
    minor = std::min(minor * 10 + (c - '0'), 1000);
  }
  return std::pair{major, minor};
}

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

}  // namespace

void C2SSession::start(C2SContext& ctx, unsigned shard, tcp::socket socket, bool direct_tls) {
  auto session = std::make_shared<C2SSession>(ctx, shard, std::move(socket), direct_tls);
  auto exec = session->transport_.socket().get_executor();
  asio::co_spawn(exec, [session]() { return session->run(); }, asio::detached);
}

C2SSession::C2SSession(C2SContext& ctx, unsigned shard, tcp::socket socket, bool direct_tls)
    : Session(shard),
      ctx_(ctx),
      transport_(std::move(socket)),
      parser_(xml::ParserLimits{static_cast<std::size_t>(ctx.config.max_stanza_bytes),
                                static_cast<std::size_t>(ctx.config.max_xml_depth),
                                static_cast<std::size_t>(ctx.config.max_attributes)},
              ctx.parser_pools.empty() ? nullptr : ctx.parser_pools[shard].get()),
      direct_tls_(direct_tls),
      deadline_(transport_.socket().get_executor()),
      drained_(transport_.socket().get_executor()),
      last_activity_(Clock::now()),
      tokens_(static_cast<double>(ctx.config.stanza_burst)),
      tokens_at_(Clock::now()),
      number_(ctx.next_stream_number++) {
  ctx_.live.add(shard, this);
}

C2SSession::~C2SSession() { ctx_.live.remove(shard(), this); }

std::string C2SSession::log_id() const {
  return jid().empty() ? fmt::format("c2s#{} {}", number_, transport_.remote_ip())
                       : fmt::format("c2s#{} {}", number_, jid().to_string());
}

awaitable<void> C2SSession::run() {
  auto self = shared_from_this();
  asio::co_spawn(deadline_.get_executor(), [self, this] { return watchdog(); }, asio::detached);
  spdlog::debug("{}: connected{}", log_id(), direct_tls_ ? " (direct TLS)" : "");
  try {
    if (direct_tls_) {
      if (!ctx_.tls) co_return finish();
      co_await transport_.start_tls(*ctx_.tls);
    }
    auto& buf = ctx_.read_buffers[shard()];
    while (state_ != State::kClosed) {
      std::size_t n = co_await transport_.read_some(asio::buffer(buf));
      last_activity_ = Clock::now();
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
        if (state_ == State::kBound) {
          if (auto pause = rate_pause(); pause.count() > 0) {
            asio::steady_timer timer(transport_.socket().get_executor(), pause);
            co_await timer.async_wait(use_awaitable);
          }
        }
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

// One timer per stream: handshake deadline, then idle deadline, then the
// grace period after we close.
awaitable<void> C2SSession::watchdog() {
  auto self = shared_from_this();
  const auto handshake = std::chrono::seconds(ctx_.config.handshake_timeout_seconds);
  const auto idle = std::chrono::seconds(ctx_.config.idle_timeout_seconds);
  const auto started = Clock::now();
  while (state_ != State::kClosed) {
    auto now = Clock::now();
    Clock::time_point due;
    if (state_ == State::kClosing) {
      // From when we closed, not from now: a peer that never answers our
      // closing tag is hung up on after the grace, not kept forever.
      due = closing_since_ + kCloseGrace;
    } else if (state_ != State::kBound) {
      due = started + handshake;
    } else {
      due = last_activity_ + idle;
    }
    if (now >= due) {
      if (state_ == State::kClosing) {
        transport_.close();
        co_return;
      }
      spdlog::info("{}: {}", log_id(), state_ == State::kBound ? "idle timeout" : "handshake timeout");
      fail(StreamCondition::kConnectionTimeout);
      continue;
    }
    deadline_.expires_at(due);
    boost::system::error_code ec;
    co_await deadline_.async_wait(asio::redirect_error(use_awaitable, ec));
  }
}

awaitable<void> C2SSession::handle(xml::StreamEvent& event) {
  if (auto* open = std::get_if<xml::StreamOpen>(&event)) {
    on_header(*open);
  } else if (auto* st = std::get_if<xml::StreamStanza>(&event)) {
    co_await on_element(st->element);
  } else if (std::holds_alternative<xml::StreamClose>(event)) {
    spdlog::debug("{}: peer closed the stream", log_id());
    if (state_ == State::kClosing) {
      finish();
    } else {
      close_stream();
    }
  } else if (auto* f = std::get_if<xml::StreamFailure>(&event)) {
    spdlog::info("{}: bad XML ({}): {}", log_id(), xml::condition_name(f->error), f->detail);
    fail(condition_of(f->error));
    // The parser is done with this stream, so the peer's closing tag could
    // not be read: hang up once our error has gone out.
    co_await drain();
    finish();
  }
}

void C2SSession::on_header(const xml::StreamOpen& open) {
  const auto& h = open.header;
  stream_id_ = make_stream_id();
  // RFC 6120 §4.7.1: 'from' is our domain; we may not know it yet.
  std::string to(h.attr_or("to"));
  auto to_jid = xmpp::Jid::parse(to);
  bool known = to_jid && !to_jid->has_node() && !to_jid->has_resource() &&
               ctx_.router.is_local_domain(to_jid->domain());
  if (domain_.empty()) domain_ = known ? to_jid->domain() : *ctx_.router.domains().begin();

  std::string header = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                       "xmlns:stream='http://etherx.jabber.org/streams' id='" + stream_id_ +
                       "' from='";
  xml::append_escaped_attr(header, domain_);
  header += "'";
  if (auto from = h.attr("from")) {
    if (auto fj = xmpp::Jid::parse(*from)) {
      header += " to='";
      xml::append_escaped_attr(header, fj->to_string());
      header += "'";
    }
  }
  header += " version='1.0' xml:lang='en'>";
  send(header);
  header_sent_ = true;

  if (open.content_ns != ns::kClient) return fail(StreamCondition::kInvalidNamespace);
  if (!known) return fail(StreamCondition::kHostUnknown);
  auto version = parse_version(h.attr_or("version"));
  if (!version || version->first < 1) return fail(StreamCondition::kUnsupportedVersion);
  if (state_ == State::kAwaitHeader) state_ = State::kNegotiating;
  send_features();
}

void C2SSession::send_features() {
  std::string f = "<stream:features>";
  const bool tls_possible = ctx_.tls && !transport_.is_tls();
  if (state_ == State::kNegotiating) {
    if (tls_possible) {
      f += ctx_.config.require_starttls
               ? "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>"
               : "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>";
    }
    if (!(tls_possible && ctx_.config.require_starttls)) {
      f += "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>";
      for (const auto& m : offered_mechanisms()) f += "<mechanism>" + m + "</mechanism>";
      f += "</mechanisms>";
      if (transport_.is_tls()) {
        // XEP-0440: which channel bindings SCRAM-*-PLUS can use here.
        f += "<sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'>";
        if (auto* cb = transport_.channel_bindings(); cb && cb->exporter)
          f += "<channel-binding type='tls-exporter'/>";
        f += "<channel-binding type='tls-server-end-point'/></sasl-channel-binding>";
      }
      for (const auto& extra : ctx_.pre_auth_features) f += extra;
    }
  } else if (state_ == State::kAuthenticated) {
    f += "<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"
         "<session xmlns='urn:ietf:params:xml:ns:xmpp-session'><optional/></session>";
    for (const auto& extra : ctx_.bound_features) f += extra;
  }
  f += "</stream:features>";
  send(f);
}

awaitable<void> C2SSession::on_element(xml::Element& el) {
  if (state_ == State::kClosing) co_return;  // we are closing: ignore what still arrives
  const bool tls_required = ctx_.tls && ctx_.config.require_starttls && !transport_.is_tls();
  if (el.name() == "starttls" && el.ns() == ns::kTls) {
    co_return co_await on_starttls();
  }
  if (tls_required) {
    // RFC 6120 §5.3.1: TLS is mandatory-to-negotiate here.
    co_return fail(StreamCondition::kPolicyViolation, "STARTTLS is required");
  }
  if (el.ns() == ns::kSasl) {
    co_return co_await on_sasl(el);
  }
  if (state_ == State::kNegotiating) {
    if (co_await answer_pre_auth_iq(el)) co_return;
    // RFC 6120 §4.9.3.12: data before authentication.
    co_return fail(StreamCondition::kNotAuthorized);
  }
  if (el.ns() != ns::kClient || (el.name() != "message" && el.name() != "presence" && el.name() != "iq")) {
    co_return fail(StreamCondition::kUnsupportedStanzaType);
  }
  if (state_ == State::kAuthenticated) {
    const auto* payload = el.name() == "iq" ? el.child("bind", ns::kBind) : nullptr;
    if (payload && el.attr_or("type") == "set") co_return co_await on_bind(el);
    if (el.name() == "iq" && (el.attr_or("type") == "get" || el.attr_or("type") == "set")) {
      auto err = xmpp::make_error_reply(el, xmpp::StanzaError(xmpp::StanzaCondition::kNotAllowed,
                                                             "bind a resource first"));
      err.remove_attr("from");
      send(err);
    }
    co_return;
  }
  on_stanza(std::move(el));
}

awaitable<void> C2SSession::on_starttls() {
  if (!ctx_.tls || transport_.is_tls() || state_ != State::kNegotiating) {
    send("<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    close_stream();
    co_return;
  }
  send("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
  co_await drain();
  restart_ = true;
  header_sent_ = false;
  co_await transport_.start_tls(*ctx_.tls);
  spdlog::debug("{}: TLS established ({})", log_id(), transport_.tls_version());
}

awaitable<bool> C2SSession::answer_pre_auth_iq(const xml::Element& el) {
  if (el.name() != "iq" || el.ns() != ns::kClient) co_return false;
  const auto type = el.attr_or("type");
  auto children = el.children();
  if ((type != "get" && type != "set") || children.size() != 1 || !el.attr("id")) co_return false;
  const auto iq_type = type == "get" ? router::IqType::kGet : router::IqType::kSet;
  const auto* handler =
      ctx_.router.iq().find(router::IqTarget::kUnauthenticated, iq_type, children.front()->ns());
  if (!handler) co_return false;
  router::IqRequest req{el, {}, xmpp::Jid::from_parts({}, domain_), iq_type, transport_.remote_ip()};
  router::IqHandler h = *handler;  // the module may stop while this runs
  router::IqReply reply;
  try {
    reply = co_await h(req);
  } catch (const std::exception& e) {
    spdlog::error("{}: pre-auth iq handler failed: {}", log_id(), e.what());
    reply = router::IqReply::fail(xmpp::StanzaError(xmpp::StanzaCondition::kInternalServerError));
  }
  xml::Element out;
  if (reply.error) {
    out = xmpp::make_error_reply(el, *reply.error);
  } else {
    out = xmpp::make_iq_result(el);
    if (reply.payload) out.add_child(std::move(*reply.payload));
  }
  out.remove_attr("from");
  out.remove_attr("to");
  send(out);
  co_return true;
}

void C2SSession::deliver(const xml::Element& stanza) {
  if (state_ != State::kBound) return;
  send(stanza);
}

void C2SSession::deliver_serialized(const router::SerializedStanza& stanza) {
  if (state_ != State::kBound) return;
  send(std::string_view(*stanza));
}

// Straight into the outbox: no string per stanza.
void C2SSession::send(const xml::Element& el) {
  if (state_ == State::kClosed) return;
  xml::serialize(out_, el, ns::kClient);
  start_flush();
}

void C2SSession::send(std::string_view bytes) {
  if (state_ == State::kClosed) return;
  out_.append(bytes);
  start_flush();
}

void C2SSession::start_flush() {
  if (!writing_) {
    writing_ = true;
    asio::co_spawn(transport_.socket().get_executor(),
                   [self = shared_from_this(), this] { return flush(); }, asio::detached);
  }
}

awaitable<void> C2SSession::flush() {
  std::string batch;
  try {
    while (!out_.empty() && transport_.is_open()) {
      batch.clear();
      batch.swap(out_);
      co_await transport_.write_all(batch);
    }
  } catch (const boost::system::system_error& e) {
    spdlog::debug("{}: write failed: {}", log_id(), e.code().message());
    out_.clear();
    transport_.close();
  } catch (const std::exception& e) {
    // Sealing failed (a bug, or OpenSSL out of memory): still end the
    // connection and clear writing_, or drain() would wait for ever.
    spdlog::error("{}: write failed: {}", log_id(), e.what());
    out_.clear();
    transport_.close();
  }
  // A burst must not pin its buffer for the life of an idle connection.
  if (out_.capacity() > 4096) std::string().swap(out_);
  writing_ = false;
  drained_.cancel();
}

awaitable<void> C2SSession::drain() {
  while (writing_) {
    drained_.expires_at(Clock::time_point::max());
    boost::system::error_code ec;
    co_await drained_.async_wait(asio::redirect_error(use_awaitable, ec));
  }
}

void C2SSession::fail(StreamCondition condition, std::string_view text) {
  if (state_ == State::kClosing || state_ == State::kClosed) return;
  if (!header_sent_) {
    // RFC 6120 §4.9.1.1: open our stream first, even to close it at once.
    send("<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
         "xmlns:stream='http://etherx.jabber.org/streams' id='" + make_stream_id() +
         "' version='1.0'>");
    header_sent_ = true;
  }
  spdlog::info("{}: stream error {}{}{}", log_id(), xmpp::condition_name(condition),
               text.empty() ? "" : ": ", text);
  send(xmpp::stream_error_xml(condition, text));
  close_stream();
}

void C2SSession::close_with_error(StreamCondition condition, std::string_view text) {
  fail(condition, text);
}

void C2SSession::close_stream() {
  if (state_ == State::kClosing || state_ == State::kClosed) return;
  send("</stream:stream>");
  if (state_ == State::kBound) ctx_.router.sessions().unbind(*this);
  state_ = State::kClosing;
  closing_since_ = Clock::now();
  deadline_.cancel();  // the watchdog switches to the grace period
}

void C2SSession::finish() {
  if (state_ == State::kClosed) return;
  const bool was_bound = state_ == State::kBound ||
                         (state_ == State::kClosing && !jid().empty());
  if (state_ == State::kBound) ctx_.router.sessions().unbind(*this);
  state_ = State::kClosed;
  if (was_bound) {
    // Presence still reads as it was, so the presence module can tell
    // contacts we are gone (RFC 6121 §4.6).
    router::SessionEvent ev{*this};
    ctx_.router.hooks().session_ended.run(ev);
    set_presence(false, priority());
  }
  spdlog::debug("{}: closed", log_id());
  deadline_.cancel();
  transport_.close();
}

// Token bucket: every stanza takes a token, and one that finds none takes it
// on credit and pauses until the bucket has refilled to zero. (A fixed pause
// that took no token let two stanzas through per pause: twice the rate.)
std::chrono::steady_clock::duration C2SSession::rate_pause() {
  auto now = Clock::now();
  double rate = static_cast<double>(ctx_.config.stanza_rate);
  double burst = static_cast<double>(ctx_.config.stanza_burst);
  tokens_ = std::min(burst, tokens_ + std::chrono::duration<double>(now - tokens_at_).count() * rate);
  tokens_at_ = now;
  tokens_ -= 1;
  if (tokens_ >= 0) return Clock::duration::zero();
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(-tokens_ / rate));
}

}  // namespace tern::stream
