#include "stream/server_in.h"

#include "core/hex.h"
#include "core/log.h"
#include "sasl/mechanism.h"
#include "xmpp/namespaces.h"
#include "xml/serializer.h"
#include "xmpp/jid.h"

namespace tern::stream {
namespace {

using Clock = std::chrono::steady_clock;
using xmpp::StreamCondition;

std::string make_stream_id() { return core::to_hex(sasl::random_bytes(12)); }

}  // namespace

ServerIn::ServerIn(S2S& s2s, unsigned shard, tcp::socket socket, bool direct_tls)
    : ServerStream(s2s, shard, std::move(socket), "s2s-in"), direct_tls_(direct_tls), timer_(executor_) {}

std::string ServerIn::describe() const {
  std::string pairs;
  for (const auto& [local, remote] : pairs_) pairs += fmt::format(" {}<-{}", local, remote);
  return fmt::format("in {} {}{}{}{}{}", transport_.remote_ip(), pairs.empty() ? "unauthenticated" : "auth=",
                     method_, pairs, bidi_ ? " bidi" : "", transport_.is_tls() ? "" : " (no TLS)");
}

void ServerIn::update_description() { s2s_.set_description(this, describe()); }

void ServerIn::start() {
  update_description();
  auto self = std::static_pointer_cast<ServerIn>(shared_from_this());
  asio::co_spawn(executor_, [self] { return self->run(); }, asio::detached);
  asio::co_spawn(executor_, [self] { return self->watchdog(); }, asio::detached);
}

awaitable<void> ServerIn::run() {
  auto self = shared_from_this();
  spdlog::debug("{}: connected{}", log_id(), direct_tls_ ? " (direct TLS)" : "");
  try {
    if (direct_tls_) {
      auto handshake = transport_.start_tls(s2s_.server_tls());
      co_await std::move(handshake);
      update_description();
    }
    co_await read_loop();
  } catch (const boost::system::system_error& e) {
    if (e.code() != asio::error::eof && e.code() != asio::error::operation_aborted)
      spdlog::debug("{}: connection ended: {}", log_id(), e.code().message());
  } catch (const std::exception& e) {
    spdlog::warn("{}: {}", log_id(), e.what());
  }
  ended_ = true;
  timer_.cancel();
  if (bidi_) {
    for (const auto& [local, remote] : pairs_) s2s_.bidi_route_down(local, remote, this);
  }
  transport_.close();
}

void ServerIn::authenticated(const std::pair<std::string, std::string>& pair) {
  pairs_.insert(pair);
  if (bidi_) s2s_.bidi_route_up(pair.first, pair.second, std::static_pointer_cast<ServerIn>(shared_from_this()));
}

bool ServerIn::send_bidi(const std::string& local, const std::string& remote, std::string_view stanza) {
  if (ended_ || closing() || !bidi_ || !pairs_.count({local, remote})) return false;
  touch();  // traffic either way keeps the stream from the idle deadline
  write(stanza);
  return true;
}

// Until a pair is authenticated: the handshake deadline; then the idle one.
awaitable<void> ServerIn::watchdog() {
  auto self = shared_from_this();
  const auto started = Clock::now();
  const auto handshake = std::chrono::seconds(s2s_.config().handshake_timeout_seconds);
  const auto idle = std::chrono::seconds(s2s_.config().idle_timeout_seconds);
  while (!ended_ && !closing()) {
    auto due = pairs_.empty() ? started + handshake : last_activity_ + idle;
    if (Clock::now() >= due) {
      fail(StreamCondition::kConnectionTimeout);
      co_return;
    }
    timer_.expires_at(due);
    boost::system::error_code ec;
    co_await timer_.async_wait(asio::redirect_error(use_awaitable, ec));
  }
}

awaitable<void> ServerIn::on_event(xml::StreamEvent& event) {
  if (auto* open = std::get_if<xml::StreamOpen>(&event)) {
    on_header(open->header, open->content_ns);
  } else if (auto* st = std::get_if<xml::StreamStanza>(&event)) {
    if (!closing()) co_await on_element(st->element);
  } else if (std::holds_alternative<xml::StreamClose>(event)) {
    close_stream();
    co_await drain();
    transport_.close();
  }
}

// s2s.max_bytes_per_second: per remote domain once the header named one.
awaitable<void> ServerIn::after_read(std::size_t bytes) {
  auto pause = s2s_.charge_read(remote_.empty() ? "address " + transport_.remote_ip() : remote_, bytes);
  if (pause.count() <= 0 || closing()) co_return;
  asio::steady_timer wait(executor_, pause);
  boost::system::error_code ec;
  co_await wait.async_wait(asio::redirect_error(use_awaitable, ec));
}

void ServerIn::on_header(const xml::Element& h, const std::string& content_ns) {
  stream_id_ = make_stream_id();
  std::string to(h.attr_or("to")), from(h.attr_or("from"));
  version_ = !h.attr_or("version").empty();
  const bool known_to = to.empty() || s2s_.is_ours(to);
  auto from_jid = xmpp::Jid::parse(from);
  write_header(known_to && !to.empty() ? to : *s2s_.router().domains().begin(),
               from_jid ? from_jid->to_string() : "", stream_id_, version_);
  if (content_ns != ns::kServer) return fail(StreamCondition::kInvalidNamespace);
  if (!known_to) return fail(StreamCondition::kHostUnknown);
  if (!from.empty() && (!from_jid || from_jid->has_node() || from_jid->has_resource()))
    return fail(StreamCondition::kInvalidFrom);
  local_ = to;
  remote_ = from_jid ? from_jid->domain() : "";
  if (version_) send_features();
}

bool ServerIn::peer_certificate_valid_for(const std::string& domain) const {
  return transport_.peer_certificate_trusted() &&
         transport::certificate_names(transport_.peer_certificate(), domain);
}

void ServerIn::send_features() {
  const auto& config = s2s_.config();
  std::string f = "<stream:features>";
  if (!transport_.is_tls()) {
    f += config.s2s_require_tls
             ? "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>"
             : "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>";
  }
  if (transport_.is_tls() || !config.s2s_require_tls) {
    // XEP-0178: EXTERNAL only where it would succeed.
    if (!sasl_done_ && !remote_.empty() && !local_.empty() && peer_certificate_valid_for(remote_))
      f += "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>EXTERNAL</mechanism></mechanisms>";
    if (config.s2s_dialback) f += "<dialback xmlns='urn:xmpp:features:dialback'><errors/></dialback>";
    // XEP-0288 §2.1: after STARTTLS, and again after SASL.
    if (config.s2s_bidi) f += "<bidi xmlns='urn:xmpp:features:bidi'/>";
  }
  f += "</stream:features>";
  write(f);
}

awaitable<void> ServerIn::on_element(xml::Element& el) {
  touch();
  if (el.ns() == ns::kTls && el.name() == "starttls") co_return co_await on_starttls();
  if (!transport_.is_tls() && s2s_.config().s2s_require_tls)
    co_return fail(StreamCondition::kPolicyViolation, "STARTTLS is required");
  if (el.ns() == ns::kSasl) co_return on_sasl(el);
  if (el.ns() == kBidiNs && el.name() == "bidi" && s2s_.config().s2s_bidi) {
    // XEP-0288 §2.2: from now on the pairs the peer authenticates here
    // carry our stanzas back to it.
    bidi_ = true;
    for (const auto& pair : pairs_) authenticated(pair);
    update_description();
    co_return;
  }
  if (el.ns() == kDialbackNs) {
    auto m = parse_dialback(el);
    if (!m) co_return fail(StreamCondition::kBadFormat, "malformed dialback element");
    if (!m->type.empty()) co_return;  // answers go to outgoing streams, not here
    if (m->kind == DialbackMessage::Kind::kResult) co_return on_dialback_result(*m);
    co_return on_dialback_verify(*m);
  }
  if (el.ns() == ns::kServer && (el.name() == "message" || el.name() == "presence" || el.name() == "iq"))
    co_return on_stanza(std::move(el));
  fail(StreamCondition::kUnsupportedStanzaType);
}

awaitable<void> ServerIn::on_starttls() {
  if (transport_.is_tls()) {
    write("<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    close_stream();
    co_return;
  }
  write("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
  co_await drain();
  restart_parser();
  auto handshake = transport_.start_tls(s2s_.server_tls());
  co_await std::move(handshake);
  spdlog::debug("{}: TLS ({}), peer certificate {}", log_id(), transport_.tls_version(),
                transport_.peer_certificate() == nullptr ? "none"
                : transport_.peer_certificate_trusted() ? "trusted"
                                                        : "not trusted");
  update_description();
}

// XEP-0178: EXTERNAL, for the stream's 'from' domain, whose certificate we
// checked during the handshake.
void ServerIn::on_sasl(const xml::Element& el) {
  auto failure = [this](const char* condition) {
    write(std::string("<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><") + condition + "/></failure>");
  };
  if (el.name() != "auth" || sasl_done_) return fail(StreamCondition::kPolicyViolation);
  if (el.attr_or("mechanism") != "EXTERNAL") return failure("invalid-mechanism");
  if (remote_.empty() || local_.empty() || !peer_certificate_valid_for(remote_))
    return failure("not-authorized");
  auto text = el.text();
  if (!text.empty() && text != "=") {
    auto authzid = sasl::base64_decode(text);
    if (!authzid || *authzid != remote_) return failure("invalid-authzid");
  }
  write("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
  sasl_done_ = true;
  method_ = "SASL EXTERNAL";
  authenticated({local_, remote_});
  spdlog::info("{}: {} authenticated by certificate (SASL EXTERNAL)", log_id(), remote_);
  update_description();
  restart_parser();
}

void ServerIn::on_dialback_result(const DialbackMessage& m) {
  using Kind = DialbackMessage::Kind;
  if (!s2s_.is_ours(m.to)) return write(dialback_error(Kind::kResult, m.to, m.from, "", "item-not-found"));
  if (!s2s_.config().s2s_dialback)
    return write(dialback_error(Kind::kResult, m.to, m.from, "", "not-authorized"));
  if (!xmpp::Jid::parse(m.from) || m.from.find_first_of("@/") != std::string::npos)
    return write(dialback_error(Kind::kResult, m.to, m.from, "", "not-acceptable"));
  std::pair<std::string, std::string> pair{m.to, m.from};
  if (pairs_.count(pair)) return write(dialback_answer(Kind::kResult, m.to, m.from, "", "valid"));
  if (!verifying_.insert(pair).second) return;  // already asked
  std::weak_ptr<ServerStream> weak = shared_from_this();
  s2s_.verify(m.to, m.from, stream_id_, m.key, [weak, pair](VerifyOutcome outcome) {
    auto self = std::static_pointer_cast<ServerIn>(weak.lock());
    if (!self || self->closing()) return;
    self->verifying_.erase(pair);
    const auto& [local, remote] = pair;
    if (outcome.type == "valid") {
      self->authenticated(pair);
      self->method_ = self->sasl_done_ ? "SASL EXTERNAL+dialback" : "dialback";
      spdlog::info("{}: {} authenticated by dialback for {}", self->log_id(), remote, local);
      self->write(dialback_answer(Kind::kResult, local, remote, "", "valid"));
      self->update_description();
    } else if (outcome.type == "invalid") {
      // §2.1.2: a spoofing attempt; the stream ends.
      spdlog::warn("{}: dialback key for {} is not valid: closing", self->log_id(), remote);
      self->write(dialback_answer(Kind::kResult, local, remote, "", "invalid"));
      self->close_stream();
    } else {
      self->write(dialback_error(Kind::kResult, local, remote, "",
                                 outcome.condition.empty() ? "remote-server-not-found" : outcome.condition));
    }
  });
}

// We are the authoritative server: is this our key for the stream it names?
void ServerIn::on_dialback_verify(const DialbackMessage& m) {
  using Kind = DialbackMessage::Kind;
  if (!s2s_.is_ours(m.to)) return write(dialback_error(Kind::kVerify, m.to, m.from, m.id, "item-not-found"));
  const bool valid = keys_equal(m.key, dialback_key(s2s_.secret(), m.from, m.to, m.id));
  spdlog::debug("{}: db:verify from {} for {}: {}", log_id(), m.from, m.to, valid ? "valid" : "invalid");
  write(dialback_answer(Kind::kVerify, m.to, m.from, m.id, valid ? "valid" : "invalid"));
}

void ServerIn::on_stanza(xml::Element el) {
  if (pairs_.empty()) return fail(StreamCondition::kNotAuthorized);
  auto from = xmpp::Jid::parse(el.attr_or("from"));
  auto to = xmpp::Jid::parse(el.attr_or("to"));
  // RFC 6120 §4.9.3.14: server-to-server stanzas carry both addresses.
  if (!el.attr("from") || !el.attr("to")) return fail(StreamCondition::kImproperAddressing);
  if (!from) return fail(StreamCondition::kInvalidFrom);
  if (!to) return fail(StreamCondition::kImproperAddressing);
  if (!s2s_.is_ours(to->domain())) return fail(StreamCondition::kHostUnknown);
  if (!pairs_.count({to->domain(), from->domain()}))
    return fail(StreamCondition::kInvalidFrom, from->domain() + " is not authenticated on this stream");
  xml::move_to_namespace(el, ns::kServer, ns::kClient);  // one namespace inside Tern
  s2s_.router().route_from_session(std::move(el));
}

}  // namespace tern::stream
