#include "stream/client_stream.h"

#include "core/hex.h"
#include "core/log.h"
#include "sasl/mechanism.h"
#include "xmpp/namespaces.h"
#include "xml/serializer.h"

namespace tern::stream {
namespace {

using xmpp::StreamCondition;
using Clock = std::chrono::steady_clock;

constexpr auto kCloseGrace = std::chrono::seconds(2);

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

}  // namespace

std::string ClientStream::make_stream_id() {
  return core::to_hex(sasl::random_bytes(12));
}

ClientStream::ClientStream(C2SContext& ctx, unsigned shard, asio::any_io_executor executor,
                           std::string remote_ip, const char* kind, StreamKind metrics_kind)
    : ResumableSession(ctx, shard),
      executor_(executor),
      deadline_(executor),
      last_activity_(Clock::now()),
      remote_ip_(std::move(remote_ip)),
      kind_(kind),
      metrics_kind_(metrics_kind),
      tokens_(static_cast<double>(ctx.config.stanza_burst)),
      tokens_at_(Clock::now()),
      number_(ctx.next_stream_number++),
      sm_unacked_(static_cast<std::size_t>(ctx.config.sm_queue_max)) {
  if (auto* c = counters()) bump(c->open[static_cast<int>(metrics_kind_)], 1);
}

ClientStream::~ClientStream() {
  if (auto* c = counters()) bump(c->open[static_cast<int>(metrics_kind_)], -1);
}

std::string ClientStream::log_id() const {
  return jid().empty() ? fmt::format("{}#{} {}", kind_, number_, remote_ip_)
                       : fmt::format("{}#{} {}", kind_, number_, jid().to_string());
}

void ClientStream::start_watchdog() {
  connected_at_ = Clock::now();
  watch_deadline();
}

// One timer per stream: handshake deadline, then idle deadline, then the
// grace period after we close. A plain wait handler, not a coroutine: every
// stream keeps one pending wait for life, and a coroutine's frames cost
// ~620 bytes where the handler costs ~90. Whatever changes which deadline
// applies cancels the wait, which brings us back here.
void ClientStream::watch_deadline() {
  try {
    while (state_ != State::kClosed) {
      Clock::time_point due;
      if (state_ == State::kClosing) {
        // From when we closed, not from now: a peer that never answers our
        // closing tag is hung up on after the grace, not kept forever.
        due = closing_since_ + kCloseGrace;
      } else if (state_ != State::kBound) {
        due = connected_at_ + std::chrono::seconds(ctx_.config.handshake_timeout_seconds);
      } else {
        due = last_activity_ + std::chrono::seconds(ctx_.config.idle_timeout_seconds);
      }
      if (Clock::now() < due) {
        deadline_.expires_at(due);
        deadline_.async_wait(
            [self = shared_from_this(), this](const boost::system::error_code&) { watch_deadline(); });
        return;
      }
      if (state_ == State::kClosing) {
        close_transport();
        return;
      } else {
        spdlog::info("{}: {}", log_id(), state_ == State::kBound ? "idle timeout" : "handshake timeout");
        fail(StreamCondition::kConnectionTimeout);
      }
    }
  } catch (const std::exception& e) {
    // A bug; a stream left without its deadline would live forever.
    spdlog::error("{}: deadline: {}", log_id(), e.what());
    close_transport();
  }
}

awaitable<void> ClientStream::pace() {
  if (state_ != State::kBound) co_return;
  if (auto pause = rate_pause(); pause.count() > 0) {
    asio::steady_timer timer(executor_, pause);
    co_await timer.async_wait(use_awaitable);
  }
}

void ClientStream::on_peer_close() {
  spdlog::debug("{}: peer closed the stream", log_id());
  if (state_ == State::kClosing) {
    finish();
  } else {
    close_stream();
  }
}

void ClientStream::on_header(const xml::Element& h, bool namespace_ok) {
  stream_id_ = make_stream_id();
  // RFC 6120 §4.7.1: 'from' is our domain; we may not know it yet.
  std::string to(h.attr_or("to"));
  auto to_jid = xmpp::Jid::parse(to);
  bool known = to_jid && !to_jid->has_node() && !to_jid->has_resource() &&
               ctx_.router.is_local_domain(to_jid->domain());
  if (domain_.empty()) domain_ = known ? to_jid->domain() : *ctx_.router.domains().begin();

  std::string attributes = " id='" + stream_id_ + "' from='";
  xml::append_escaped_attr(attributes, domain_);
  attributes += "'";
  if (auto from = h.attr("from")) {
    if (auto fj = xmpp::Jid::parse(*from)) {
      attributes += " to='";
      xml::append_escaped_attr(attributes, fj->to_string());
      attributes += "'";
    }
  }
  attributes += " version='1.0' xml:lang='en'";
  write_stream_open(attributes);
  header_sent_ = true;

  if (!namespace_ok) return fail(StreamCondition::kInvalidNamespace);
  if (!known) return fail(StreamCondition::kHostUnknown);
  auto version = parse_version(h.attr_or("version"));
  if (!version || version->first < 1) return fail(StreamCondition::kUnsupportedVersion);
  if (state_ == State::kAwaitHeader) state_ = State::kNegotiating;
  send_features();
}

void ClientStream::send_features() {
  std::string f = "<stream:features>";
  if (state_ == State::kNegotiating) {
    if (offers_starttls()) {
      f += requires_starttls()
               ? "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>"
               : "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>";
    }
    if (!requires_starttls()) {
      f += "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>";
      for (const auto& m : offered_mechanisms()) f += "<mechanism>" + m + "</mechanism>";
      f += "</mechanisms>";
      f += sasl2_feature();
      if (const auto* cb = channel_bindings()) {
        // XEP-0440: which channel bindings SCRAM-*-PLUS can use here.
        f += "<sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'>";
        if (cb->exporter) f += "<channel-binding type='tls-exporter'/>";
        f += "<channel-binding type='tls-server-end-point'/></sasl-channel-binding>";
      }
      for (const auto& extra : ctx_.pre_auth_plain_features) f += extra;
      if (is_confidential()) {
        for (const auto& extra : ctx_.pre_auth_features) f += extra;
      }
    }
  } else if (state_ == State::kAuthenticated) {
    f += "<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"
         "<session xmlns='urn:ietf:params:xml:ns:xmpp-session'><optional/></session>"
         "<sm xmlns='urn:xmpp:sm:3'/><csi xmlns='urn:xmpp:csi:0'/>";
    for (const auto& extra : ctx_.bound_features) f += extra;
  } else if (state_ == State::kBound) {
    // Bound inline with SASL2 (XEP-0386): what is left to negotiate.
    for (const auto& extra : ctx_.bound_features) f += extra;
  }
  f += "</stream:features>";
  send(f);
}

awaitable<void> ClientStream::on_element(xml::Element& el) {
  if (state_ == State::kClosing || state_ == State::kClosed) co_return;  // ignore what still arrives
  if (el.name() == "starttls" && el.ns() == ns::kTls) {
    co_return co_await on_starttls();
  }
  if (requires_starttls()) {
    // RFC 6120 §5.3.1: TLS is mandatory-to-negotiate here.
    co_return fail(StreamCondition::kPolicyViolation, "STARTTLS is required");
  }
  if (el.ns() == ns::kSasl) {
    co_return co_await on_sasl(el);
  }
  if (el.ns() == ns::kSasl2) {
    co_return co_await on_sasl2(el);
  }
  if (state_ == State::kNegotiating || state_ == State::kAwaitHeader) {
    if (co_await answer_pre_auth_iq(el)) co_return;
    // RFC 6120 §4.9.3.12: data before authentication.
    co_return fail(StreamCondition::kNotAuthorized);
  }
  if (el.ns() == ns::kSm) {
    if (el.name() == "resume") co_return co_await sm_resume(el);
    co_return on_stream_management(el);
  }
  if (el.ns() == ns::kCsi) {
    if (state_ == State::kBound) on_client_state(el);
    co_return;  // before binding there is nothing to hold back (§5)
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
  if (auto* c = counters()) {
    const int kind = el.name() == "message" ? 0 : el.name() == "presence" ? 1 : 2;
    bump(c->stanzas_in[kind]);
  }
  on_stanza(std::move(el));
  // Counted once routed; stanzas routed asynchronously (storage) are not yet
  // tracked by a handled ticket, see docs/mobile.md.
  if (sm_enabled_) sm_inbound_.advance();
}

awaitable<void> ClientStream::on_starttls() {
  send("<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
  close_stream();
  co_return;
}

awaitable<bool> ClientStream::answer_pre_auth_iq(const xml::Element& el) {
  if (el.name() != "iq" || el.ns() != ns::kClient) co_return false;
  const auto type = el.attr_or("type");
  auto children = el.children();
  if ((type != "get" && type != "set") || children.size() != 1 || !el.attr("id")) co_return false;
  const auto iq_type = type == "get" ? router::IqType::kGet : router::IqType::kSet;
  const auto* handler =
      ctx_.router.iq().find(router::IqTarget::kUnauthenticated, iq_type, children.front()->ns());
  if (!handler) co_return false;
  router::IqRequest req{el, {}, xmpp::Jid::from_parts({}, domain_), iq_type, remote_ip_,
                        is_confidential()};
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

void ClientStream::deliver(const xml::Element& stanza) {
  if (handed_over_) return pass_on(std::make_shared<const std::string>(xml::to_string(stanza, ns::kClient)));
  if (resuming_ || binding_inline_) return resume_backlog_.push_back(xml::to_string(stanza, ns::kClient));
  if (state_ != State::kBound) return;
  if (auto* c = counters()) bump(c->stanzas_out);
  if (csi_.inactive()) return deliver_while_inactive(xml::to_string(stanza, ns::kClient));
  // Serialised straight into the transport's buffer when nothing needs a copy.
  if (!sm_enabled_) return write_stanza(stanza);
  write_tracked(xml::to_string(stanza, ns::kClient));
}

void ClientStream::deliver_serialized(const router::SerializedStanza& stanza) {
  if (handed_over_) return pass_on(stanza);
  if (resuming_ || binding_inline_) return resume_backlog_.push_back(*stanza);
  if (state_ != State::kBound) return;
  if (auto* c = counters()) bump(c->stanzas_out);
  if (csi_.inactive()) return deliver_while_inactive(*stanza);
  if (!sm_enabled_) return write_serialized(std::string_view(*stanza));
  write_tracked(*stanza);
}

void ClientStream::accept_passed_on(const router::SerializedStanza& stanza) {
  if (!resuming_) return deliver_serialized(stanza);
  resume_backlog_.insert(resume_backlog_.begin() + static_cast<std::ptrdiff_t>(passed_on_), *stanza);
  ++passed_on_;
}

void ClientStream::write_backlog() {
  auto backlog = std::exchange(resume_backlog_, {});
  if (auto* c = counters()) c->stanzas_out.fetch_add(backlog.size(), std::memory_order_relaxed);
  for (auto& stanza : backlog) {
    if (csi_.inactive()) {
      deliver_while_inactive(std::move(stanza));
    } else {
      write_tracked(std::move(stanza));
    }
  }
}

void ClientStream::deliver_while_inactive(std::string bytes) {
  if (csi_.hold(bytes)) return;
  for (auto& held : csi_.take_held()) write_tracked(std::move(held));
  write_tracked(std::move(bytes));
}

// XEP-0352: <inactive/> and <active/>, on a bound stream.
void ClientStream::on_client_state(const xml::Element& el) {
  if (el.name() == "inactive") return csi_.set_inactive();
  if (el.name() != "active") return fail(StreamCondition::kUnsupportedStanzaType);
  for (auto& held : csi_.set_active()) write_tracked(std::move(held));
}

void ClientStream::fail(StreamCondition condition, std::string_view text) {
  if (state_ == State::kClosing || state_ == State::kClosed) return;
  if (!header_sent_) {
    // RFC 6120 §4.9.1.1: open our stream first, even to close it at once.
    write_stream_open(" id='" + make_stream_id() + "' version='1.0'");
    header_sent_ = true;
  }
  spdlog::info("{}: stream error {}{}{}", log_id(), xmpp::condition_name(condition),
               text.empty() ? "" : ": ", text);
  send(xmpp::stream_error_xml(condition, text));
  close_stream();
}

void ClientStream::close_with_error(StreamCondition condition, std::string_view text) {
  fail(condition, text);
}

void ClientStream::close_stream() {
  if (state_ == State::kClosing || state_ == State::kClosed) return;
  write_stream_close();
  if (state_ == State::kBound) ctx_.router.sessions().unbind(*this);
  state_ = State::kClosing;
  closing_since_ = Clock::now();
  deadline_.cancel();  // the watchdog switches to the grace period
}

void ClientStream::finish() {
  if (state_ == State::kClosed) return;
  // XEP-0198 §5: the connection broke under a resumable session.
  if (state_ == State::kBound && !sm_id_.empty()) {
    hibernate();
    return leave_live();
  }
  // A stream taking over a session (resuming_) has its address, not yet the session.
  // One taken over (handed_over_) left its session to its successor.
  const bool was_bound = state_ == State::kBound ||
                         (state_ == State::kClosing && !jid().empty() && !resuming_ && !handed_over_);
  if (state_ == State::kBound) ctx_.router.sessions().unbind(*this);
  state_ = State::kClosed;
  if (was_bound) end_session(sm_id_, sm_inbound_.value(), sm_unacked_.take_all());
  spdlog::debug("{}: closed", log_id());
  deadline_.cancel();
  close_transport();
  leave_live();
}

// Token bucket: every stanza takes a token, and one that finds none takes it
// on credit and pauses until the bucket has refilled to zero. (A fixed pause
// that took no token let two stanzas through per pause: twice the rate.)
std::chrono::steady_clock::duration ClientStream::rate_pause() {
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
