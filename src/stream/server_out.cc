#include "stream/server_out.h"

#include "core/log.h"
#include "sasl/mechanism.h"
#include "stream/dialback.h"
#include "transport/tls.h"
#include "xmpp/namespaces.h"
#include "xml/parse_element.h"
#include "xml/serializer.h"
#include "xmpp/jid.h"

namespace tern::stream {
namespace {

using Clock = std::chrono::steady_clock;
using xmpp::StanzaCondition;

const char* phase_name(int p) {
  static const char* kNames[] = {"resolving", "connecting", "opening", "negotiating", "starting TLS",
                                 "SASL", "dialback", "ready", "closed"};
  return kNames[p];
}

}  // namespace

ServerOut::ServerOut(S2S& s2s, unsigned shard, asio::any_io_executor executor, std::string local,
                     std::string remote)
    : ServerStream(s2s, shard, tcp::socket(executor), "s2s-out"),
      local_(std::move(local)),
      remote_(std::move(remote)),
      started_(Clock::now()),
      last_sent_(Clock::now()),
      timer_(executor),
      pace_timer_(executor) {}

std::string ServerOut::describe() const {
  return fmt::format("out {} -> {} {}{}{}{}{}{}", local_, remote_, phase_name(static_cast<int>(phase_)),
                     *method_ ? " auth=" : "", method_, bidi_ ? " bidi" : "",
                     cert_problem_.empty() ? "" : " (peer certificate " + cert_problem_ + ")",
                     peer_.empty() ? "" : " via " + peer_);
}

void ServerOut::update_description() { s2s_.set_description(this, describe()); }

void ServerOut::start() {
  update_description();
  auto self = std::static_pointer_cast<ServerOut>(shared_from_this());
  asio::co_spawn(executor_, [self] { return self->run(); }, asio::detached);
  asio::co_spawn(executor_, [self] { return self->watchdog(); }, asio::detached);
}

void ServerOut::send(std::string stanza) {
  if (phase_ == Phase::kReady && !s2s_.write_limited()) {
    last_sent_ = Clock::now();
    return write(stanza);
  }
  if (phase_ == Phase::kDone) return bounce(stanza, StanzaCondition::kRemoteServerNotFound, "link closed");
  // Up but rate-limited: straight out while the bucket allows and nothing
  // waits before it; else into the queue that pace() drains.
  if (phase_ == Phase::kReady && queue_.empty() && s2s_.write_wait(remote_) == Clock::duration::zero()) {
    s2s_.charge_write(remote_, stanza.size());
    last_sent_ = Clock::now();
    return write(stanza);
  }
  if (queue_.size() >= static_cast<std::size_t>(s2s_.config().s2s_max_queued_stanzas))
    return bounce(stanza, StanzaCondition::kResourceConstraint, "too many stanzas queued for " + remote_);
  queue_.push_back(std::move(stanza));
  if (phase_ == Phase::kReady) {
    last_sent_ = Clock::now();  // waiting is not idle
    if (queue_.size() == 1) pace_timer_.cancel();
  }
}

awaitable<void> ServerOut::pace() {
  auto self = shared_from_this();
  while (phase_ == Phase::kReady) {
    // Nothing queued: sleep until send() cancels the timer.
    const Clock::duration wait =
        queue_.empty() ? Clock::duration(std::chrono::hours(24)) : s2s_.write_wait(remote_);
    if (wait == Clock::duration::zero()) {
      s2s_.charge_write(remote_, queue_.front().size());
      write(queue_.front());
      queue_.pop_front();
      last_sent_ = Clock::now();
      continue;
    }
    pace_timer_.expires_after(wait);
    boost::system::error_code ec;
    co_await pace_timer_.async_wait(asio::redirect_error(use_awaitable, ec));
  }
}

bool ServerOut::accept_peer_certificate() {
  if (cert_checked_) return true;
  cert_checked_ = true;
  X509* cert = transport_.peer_certificate();
  if (!transport_.is_tls()) {
    cert_problem_ = "absent: no TLS";
  } else if (cert == nullptr) {
    cert_problem_ = "absent";
  } else if (!transport_.peer_certificate_trusted()) {
    cert_problem_ = "not trusted";
  } else if (!transport::certificate_names(cert, remote_)) {
    cert_problem_ = "not for " + remote_;
  } else {
    return true;
  }
  if (s2s_.config().s2s_require_valid_certificates) {
    spdlog::warn("{}: certificate of {} {}: refusing the link (s2s.require_valid_certificates)", log_id(),
                 remote_, cert_problem_);
    give_up(StanzaCondition::kRemoteServerNotFound, "the certificate of " + remote_ + " is " + cert_problem_);
    return false;
  }
  // RFC 6120 §13.7.2.2 / XEP-0220: the common policy; dialback through DNS
  // authenticates us to the peer, and DNS is all that names the peer.
  spdlog::info("{}: certificate of {} {}: going on with dialback", log_id(), remote_, cert_problem_);
  update_description();
  return true;
}

void ServerOut::verify(std::string id, std::string key, VerifyDone done) {
  if (phase_ == Phase::kDone) return done({"error", "remote-server-not-found"});
  verifies_.push_back({std::move(id), std::move(key), std::move(done)});
  if (can_verify_) send_verifies();
}

void ServerOut::send_verifies() {
  for (auto& v : verifies_) {
    if (v.sent) continue;
    v.sent = true;
    write(dialback_request({DialbackMessage::Kind::kVerify, local_, remote_, v.id, "", v.key}));
  }
}

awaitable<void> ServerOut::run() {
  auto self = shared_from_this();
  try {
    const bool connected = co_await connect();
    if (connected) {
      write_header(local_, remote_, "", true);
      phase_ = Phase::kAwaitHeader;
      update_description();
      co_await read_loop();
    }
  } catch (const boost::system::system_error& e) {
    if (e.code() != asio::error::eof && e.code() != asio::error::operation_aborted)
      spdlog::debug("{}: connection to {} ended: {}", log_id(), remote_, e.code().message());
  } catch (const std::exception& e) {
    spdlog::warn("{}: link to {} failed: {}", log_id(), remote_, e.what());
  }
  if (timed_out_) {
    give_up(StanzaCondition::kRemoteServerTimeout, "no connection to " + remote_ + " in time");
  } else {
    give_up(StanzaCondition::kRemoteServerNotFound, "the connection to " + remote_ + " ended");
  }
}

awaitable<bool> ServerOut::connect() {
  ResolveResult resolved;
  {
    auto job = s2s_.blocking().run([&] { return resolve_server(remote_, s2s_.static_routes()); });
    resolved = co_await std::move(job);
  }
  if (phase_ == Phase::kDone) co_return false;
  if (resolved.addresses.empty()) {
    give_up(StanzaCondition::kRemoteServerNotFound, "cannot resolve " + remote_ + ": " + resolved.error);
    co_return false;
  }
  phase_ = Phase::kConnecting;
  update_description();
  auto& socket = transport_.socket();
  for (const auto& a : resolved.addresses) {
    boost::system::error_code ec;
    auto address = asio::ip::make_address(a.ip, ec);
    if (ec) continue;
    tcp::endpoint ep(address, a.port);
    auto op = socket.async_connect(ep, asio::redirect_error(use_awaitable, ec));
    co_await std::move(op);
    if (phase_ == Phase::kDone) co_return false;
    if (ec) {
      spdlog::debug("{}: {} ({}:{}): {}", log_id(), remote_, a.ip, a.port, ec.message());
      boost::system::error_code ignored;
      socket.close(ignored);
      continue;
    }
    socket.non_blocking(true, ec);
    socket.set_option(tcp::no_delay(true), ec);
    peer_ = fmt::format("{} {}:{}", a.host, a.ip, a.port);
    spdlog::info("{}: connected to {} at {}", log_id(), remote_, peer_);
    if (a.direct_tls) {
      auto handshake = transport_.start_tls_client(s2s_.client_tls(), remote_);
      co_await std::move(handshake);
    }
    co_return true;
  }
  give_up(StanzaCondition::kRemoteServerNotFound, "cannot connect to " + remote_);
  co_return false;
}

// Connect deadline while the link is being set up, then the idle deadline.
awaitable<void> ServerOut::watchdog() {
  auto self = shared_from_this();
  const auto connect_timeout = std::chrono::seconds(s2s_.config().s2s_connect_timeout_seconds);
  const auto idle = std::chrono::seconds(s2s_.config().s2s_idle_timeout_seconds);
  while (phase_ != Phase::kDone) {
    auto due = phase_ == Phase::kReady ? last_sent_ + idle : started_ + connect_timeout;
    if (Clock::now() >= due) {
      if (phase_ == Phase::kReady) {
        spdlog::info("{}: link to {} idle, closing", log_id(), remote_);
        give_up(StanzaCondition::kRemoteServerTimeout, "idle");
      } else {
        spdlog::info("{}: link to {} not up in {}s", log_id(), remote_, connect_timeout.count());
        timed_out_ = true;
        give_up(StanzaCondition::kRemoteServerTimeout, "no connection to " + remote_ + " in time");
      }
      co_return;
    }
    timer_.expires_at(due);
    boost::system::error_code ec;
    co_await timer_.async_wait(asio::redirect_error(use_awaitable, ec));
  }
}

awaitable<void> ServerOut::on_event(xml::StreamEvent& event) {
  if (auto* open = std::get_if<xml::StreamOpen>(&event)) {
    stream_id_ = std::string(open->header.attr_or("id"));
    if (open->header.attr_or("version").empty()) {
      // A pre-RFC 3920 server sends no features: dialback at once.
      if (!transport_.is_tls() && s2s_.config().s2s_require_tls) {
        give_up(StanzaCondition::kRemoteServerNotFound, remote_ + " offers no TLS");
      } else if (accept_peer_certificate()) {
        start_dialback();
      }
    } else {
      phase_ = Phase::kAwaitFeatures;
    }
  } else if (auto* st = std::get_if<xml::StreamStanza>(&event)) {
    auto& el = st->element;
    if (el.ns() == ns::kServer && (el.name() == "message" || el.name() == "presence" || el.name() == "iq")) {
      on_stanza(std::move(el));
    } else {
      co_await on_element(el);
    }
  } else if (std::holds_alternative<xml::StreamClose>(event)) {
    give_up(StanzaCondition::kRemoteServerNotFound, remote_ + " closed the stream");
    co_await drain();
    transport_.close();
  }
}

awaitable<void> ServerOut::on_element(const xml::Element& el) {
  if (el.ns() == ns::kStreams && el.name() == "features") co_return on_features(el);
  if (el.ns() == ns::kStreams && el.name() == "error") {
    const auto* condition = el.child_by_ns(ns::kStreamErrors);
    std::string name = condition ? condition->name() : "undefined-condition";
    spdlog::info("{}: {} sent stream error {}", log_id(), remote_, name);
    co_return give_up(name == "host-unknown" || name == "host-gone" ? StanzaCondition::kRemoteServerNotFound
                                                                    : StanzaCondition::kRemoteServerTimeout,
                      remote_ + ": " + name);
  }
  if (el.ns() == ns::kTls && phase_ == Phase::kAwaitProceed) {
    if (el.name() != "proceed") co_return give_up(StanzaCondition::kRemoteServerNotFound, "STARTTLS refused");
    co_await drain();
    auto handshake = transport_.start_tls_client(s2s_.client_tls(), remote_);
    co_await std::move(handshake);
    spdlog::debug("{}: TLS to {} ({})", log_id(), remote_, transport_.tls_version());
    restart_parser();
    write_header(local_, remote_, "", true);
    phase_ = Phase::kAwaitHeader;
    co_return;
  }
  if (el.ns() == ns::kSasl && phase_ == Phase::kAwaitSasl) {
    if (el.name() == "success") {
      sasl_done_ = true;
      restart_parser();
      write_header(local_, remote_, "", true);
      phase_ = Phase::kAwaitHeader;
      co_return;
    }
    spdlog::info("{}: {} refused SASL EXTERNAL", log_id(), remote_);
    if (s2s_.config().s2s_dialback) co_return start_dialback();
    co_return give_up(StanzaCondition::kRemoteServerNotFound, "authentication refused");
  }
  if (el.ns() == kDialbackNs) co_return on_dialback(el);
}

void ServerOut::on_features(const xml::Element& features) {
  if (sasl_done_) return become_ready("SASL EXTERNAL");
  if (features.child("starttls", ns::kTls) && !transport_.is_tls()) {
    write("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    phase_ = Phase::kAwaitProceed;
    return;
  }
  if (!transport_.is_tls() && s2s_.config().s2s_require_tls)
    return give_up(StanzaCondition::kRemoteServerNotFound, remote_ + " offers no TLS");
  if (!accept_peer_certificate()) return;
  // XEP-0288 §2.2: asked for before authenticating, once TLS is up.
  if (!bidi_ && s2s_.config().s2s_bidi && transport_.is_tls() && features.child("bidi", kBidiFeatureNs)) {
    write(std::string("<bidi xmlns='") + kBidiNs + "'/>");
    bidi_ = true;
    update_description();
  }
  bool external = false;
  if (const auto* mechs = features.child("mechanisms", ns::kSasl)) {
    for (const auto* m : mechs->children()) external = external || m->text() == "EXTERNAL";
  }
  // XEP-0178 only between servers that both showed a valid certificate;
  // otherwise dialback.
  if (external && !sasl_tried_ && transport_.is_tls() && cert_problem_.empty()) {
    // XEP-0178 §2: no authorization identity, the stream's 'from' says it.
    sasl_tried_ = true;
    write("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='EXTERNAL'>=</auth>");
    phase_ = Phase::kAwaitSasl;
    return;
  }
  if (s2s_.config().s2s_dialback) return start_dialback();
  give_up(StanzaCondition::kRemoteServerNotFound, remote_ + " offers no authentication we can use");
}

void ServerOut::start_dialback() {
  auto key = dialback_key(s2s_.secret(), remote_, local_, stream_id_);
  write(dialback_request({DialbackMessage::Kind::kResult, local_, remote_, "", "", key}));
  phase_ = Phase::kAwaitDialback;
  update_description();
  can_verify_ = true;
  send_verifies();
}

void ServerOut::on_dialback(const xml::Element& el) {
  auto m = parse_dialback(el);
  if (!m || m->type.empty()) return;
  if (m->kind == DialbackMessage::Kind::kVerify) {
    // The authoritative server's answer to one of our verifications.
    for (auto it = verifies_.begin(); it != verifies_.end(); ++it) {
      if (!it->sent || it->id != m->id) continue;
      auto done = std::move(it->done);
      verifies_.erase(it);
      std::string condition;
      if (const auto* error = el.child("error")) {
        if (const auto* c = error->child_by_ns(ns::kStanzaErrors)) condition = c->name();
      }
      done({m->type, condition});
      return;
    }
    return;
  }
  if (phase_ != Phase::kAwaitDialback || m->from != remote_ || m->to != local_) return;
  if (m->type == "valid") return become_ready("dialback");
  spdlog::warn("{}: {} answered our dialback with {}", log_id(), remote_, m->type);
  give_up(StanzaCondition::kRemoteServerNotFound, "dialback " + m->type);
}

// XEP-0288: once we asked for bidi and the link is up, the peer may send
// us stanzas from its domain to ours here — for SASL EXTERNAL, from the
// stream's 'to' to its 'from'; for dialback, the inverse of the pair we
// authenticated: (remote_, local_) either way, and nothing else.
void ServerOut::on_stanza(xml::Element el) {
  using xmpp::StreamCondition;
  if (!bidi_ || phase_ != Phase::kReady) return fail(StreamCondition::kNotAuthorized);
  if (!el.attr("from") || !el.attr("to")) return fail(StreamCondition::kImproperAddressing);
  auto from = xmpp::Jid::parse(el.attr_or("from"));
  auto to = xmpp::Jid::parse(el.attr_or("to"));
  if (!from || from->domain() != remote_) return fail(StreamCondition::kInvalidFrom);
  if (!to || to->domain() != local_) return fail(StreamCondition::kHostUnknown);
  last_sent_ = Clock::now();  // in use, not idle
  xml::move_to_namespace(el, ns::kServer, ns::kClient);  // one namespace inside Tern
  s2s_.router().route_from_session(std::move(el));
}

void ServerOut::become_ready(const char* method) {
  phase_ = Phase::kReady;
  method_ = method;
  spdlog::info("{}: link {} -> {} up ({}, {})", log_id(), local_, remote_, method,
               transport_.is_tls() ? transport_.tls_version() : "no TLS");
  update_description();
  last_sent_ = Clock::now();
  if (s2s_.write_limited()) {
    asio::co_spawn(executor_, [self = std::static_pointer_cast<ServerOut>(shared_from_this())] {
      return self->pace();
    }, asio::detached);
  } else {
    for (auto& s : queue_) write(s);
    std::deque<std::string>().swap(queue_);
  }
  can_verify_ = true;
  send_verifies();
  timer_.cancel();  // the watchdog switches to the idle deadline
}

void ServerOut::give_up(StanzaCondition condition, std::string_view why) {
  if (phase_ == Phase::kDone) return;
  auto self = shared_from_this();
  const bool was_ready = phase_ == Phase::kReady;
  phase_ = Phase::kDone;
  if (!was_ready) spdlog::info("{}: link {} -> {} failed: {}", log_id(), local_, remote_, why);
  s2s_.link_ended(*this);
  auto queue = std::move(queue_);
  for (auto& s : queue) bounce(s, condition, why);
  auto verifies = std::move(verifies_);
  const char* verify_error = condition == StanzaCondition::kRemoteServerTimeout
                                 ? "remote-server-timeout"
                                 : "remote-server-not-found";
  for (auto& v : verifies) v.done({"error", verify_error});
  timer_.cancel();
  pace_timer_.cancel();
  if (was_ready || transport_.is_open()) {
    close_stream();
  } else {
    transport_.close();
  }
}

void ServerOut::close_with_error(xmpp::StreamCondition condition, std::string_view text) {
  auto self = shared_from_this();
  if (phase_ == Phase::kReady) fail(condition, text);
  give_up(StanzaCondition::kRemoteServerTimeout, "server shutting down");
}

// Errors and presences are never bounced (RFC 6120 §8.3.1, RFC 6121 §4.4:
// nobody waits for them); nor are iq results.
void ServerOut::bounce(const std::string& stanza, StanzaCondition condition, std::string_view why) {
  auto el = xml::parse_element(stanza, ns::kClient);
  if (!el) return;
  const auto type = el->attr_or("type");
  if (type == "error" || type == "result" || el->name() == "presence") return;
  s2s_.router().bounce(*el, xmpp::StanzaError(condition, std::string(why)));
}

}  // namespace tern::stream
