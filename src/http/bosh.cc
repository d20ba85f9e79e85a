#include "http/bosh.h"

#include <charconv>

#include "core/hex.h"
#include "core/log.h"
#include "http/ws_session.h"
#include "xmpp/namespaces.h"
#include "xml/serializer.h"

namespace tern::http {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view kHttpBindNs = "http://jabber.org/protocol/httpbind";
constexpr std::string_view kXboshVersion = "{urn:xmpp:xbosh}version";
constexpr std::string_view kXboshRestart = "{urn:xmpp:xbosh}restart";
constexpr std::string_view kBodyOpen =
    "<body xmlns='http://jabber.org/protocol/httpbind' "
    "xmlns:stream='http://etherx.jabber.org/streams'";

std::optional<std::uint64_t> parse_number(std::string_view s) {
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

int clamp_attr(const xml::Element& body, std::string_view name, int fallback, int lo, int hi) {
  auto v = parse_number(body.attr_or(name));
  if (!v) return fallback;
  return static_cast<int>(std::clamp<std::uint64_t>(*v, lo, hi));
}

// A request body as an element tree; nullopt when it is not one complete
// well-formed element within limits.
std::optional<xml::Element> parse_body(const std::string& text, const core::Config& config) {
  xml::StreamParser parser(xml::ParserLimits{
      static_cast<std::size_t>(std::max(config.max_stanza_bytes, config.http_max_body_bytes)),
      static_cast<std::size_t>(config.max_xml_depth) + 1,
      static_cast<std::size_t>(config.max_attributes), 4096, false});
  parser.feed("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>");
  (void)parser.next();
  parser.feed(text);
  std::optional<xml::Element> body;
  while (auto event = parser.next()) {
    auto* st = std::get_if<xml::StreamStanza>(&*event);
    if (!st || body) return std::nullopt;
    body = std::move(st->element);
  }
  return body;
}


std::string random_sid() {
  return core::to_hex(sasl::random_bytes(16));  // 128 bits: not guessable
}

}  // namespace

std::string bosh_terminate(std::string_view condition) {
  std::string out(kBodyOpen);
  out += " type='terminate'";
  if (!condition.empty()) {
    out += " condition='";
    out += condition;
    out += "'";
  }
  out += "/>";
  return out;
}

// --- the registry ---------------------------------------------------------

BoshRegistry::BoshRegistry(stream::C2SContext& ctx, std::vector<asio::any_io_executor> executors,
                           BoshLimits limits)
    : ctx_(ctx), executors_(std::move(executors)), limits_(limits) {}

std::size_t BoshRegistry::size() const {
  std::lock_guard lock(mutex_);
  return sessions_.size();
}

void BoshRegistry::remove(const std::string& sid) {
  std::lock_guard lock(mutex_);
  sessions_.erase(sid);
}

void BoshRegistry::clear() {
  std::unordered_map<std::string, std::shared_ptr<BoshSession>> doomed;
  {
    std::lock_guard lock(mutex_);
    doomed.swap(sessions_);
  }
}

std::shared_ptr<BoshSession> BoshRegistry::find(const std::string& sid) const {
  std::lock_guard lock(mutex_);
  auto it = sessions_.find(sid);
  return it == sessions_.end() ? nullptr : it->second;
}

awaitable<BoshReply> BoshRegistry::handle(unsigned shard, const std::string& text,
                                          const std::string& peer, bool confidential) {
  auto body = parse_body(text, ctx_.config);
  if (!body || body->name() != "body" || body->ns() != kHttpBindNs || !parse_number(body->attr_or("rid"))) {
    spdlog::info("bosh {}: bad request body", peer);
    co_return BoshReply{400, bosh_terminate("bad-request")};
  }
  auto sid = body->attr("sid");
  if (!sid) co_return co_await create(shard, *body, peer, confidential);
  auto session = find(std::string(*sid));
  if (!session) {
    spdlog::info("bosh {}: unknown sid", peer);
    co_return BoshReply{200, bosh_terminate("item-not-found")};
  }
  // The session's state is touched on its own shard only, and its last
  // reference must go there too (its destructor leaves per-shard sets): this
  // frame keeps it alive while the request runs, then hands it back.
  // Only raw pointers in the lambda: GCC 12 relocates by-value captures of a
  // co_await temporary bitwise (ASan caught a shared_ptr freed twice). The
  // body and the session live in this frame until the request is answered.
  xml::Element* b = &*body;
  BoshReply reply = co_await asio::co_spawn(
      session->executor(), [s = session.get(), b] { return s->request(*b); }, use_awaitable);
  auto executor = session->executor();
  asio::post(executor, [s = std::move(session)] {});
  co_return reply;
}

awaitable<BoshReply> BoshRegistry::create(unsigned shard, const xml::Element& body, const std::string& peer,
                                          bool confidential) {
  auto to = xmpp::Jid::parse(body.attr_or("to"));
  if (!to || to->has_node() || to->has_resource() || !ctx_.router.is_local_domain(to->domain()))
    co_return BoshReply{200, bosh_terminate("host-unknown")};
  const int wait = clamp_attr(body, "wait", limits_.max_wait_seconds, 1, limits_.max_wait_seconds);
  const int hold = clamp_attr(body, "hold", 1, 0, limits_.max_hold);
  std::string sid = random_sid();
  auto session = std::make_shared<BoshSession>(ctx_, *this, shard, executors_[shard], sid, peer,
                                               confidential, wait, hold, limits_);
  {
    std::lock_guard lock(mutex_);
    sessions_.emplace(sid, session);
  }
  co_return co_await session->create(body);
}

// --- one session ------------------------------------------------------------

struct BoshSession::Waiter {
  Waiter(asio::any_io_executor ex, std::uint64_t r) : timer(ex), rid(r) {}
  asio::steady_timer timer;
  std::uint64_t rid;
  std::optional<std::string> response;
};

BoshSession::BoshSession(stream::C2SContext& ctx, BoshRegistry& registry, unsigned shard,
                         asio::any_io_executor executor, std::string sid, std::string remote_ip,
                         bool confidential, int wait_seconds, int hold, const BoshLimits& limits)
    : ClientStream(ctx, shard, executor, std::move(remote_ip), "bosh", stream::StreamKind::kBosh),
      registry_(registry),
      sid_(std::move(sid)),
      confidential_(confidential),
      wait_seconds_(wait_seconds),
      hold_(hold),
      limits_(limits),
      last_request_(Clock::now()) {}

awaitable<BoshReply> BoshSession::create(const xml::Element& body) {
  auto rid = *parse_number(body.attr_or("rid"));
  next_rid_ = rid + 1;
  start_watchdog();
  asio::co_spawn(executor_, [self = shared_from_this(), this] { return reap_when_inactive(); },
                 asio::detached);
  xml::Element header("stream", "http://etherx.jabber.org/streams");
  header.set_attr("to", body.attr_or("to"));
  header.set_attr("version", body.attr_or(kXboshVersion, "1.0"));
  on_header(header, true);
  std::string out(kBodyOpen);
  out += fmt::format(
      " xmlns:xmpp='urn:xmpp:xbosh' sid='{}' wait='{}' requests='{}' inactivity='{}' polling='{}'"
      " hold='{}' ver='1.11' authid='{}' xmpp:version='1.0' xmpp:restartlogic='true' from='",
      sid_, wait_seconds_, hold_ + 1, limits_.inactivity_seconds, limits_.polling_seconds, hold_,
      authid_);
  xml::append_escaped_attr(out, body.attr_or("to"));
  out += "'>";
  out += pending_;
  out += "</body>";
  pending_.clear();
  answered_[rid] = out;
  spdlog::debug("{}: BOSH session created", log_id());
  co_return BoshReply{200, std::move(out)};
}

awaitable<BoshReply> BoshSession::request(xml::Element& body) {
  const std::uint64_t rid = *parse_number(body.attr_or("rid"));
  last_request_ = Clock::now();
  touch();
  if (auto it = answered_.find(rid); it != answered_.end()) {
    // XEP-0124 §14.3: a repeated request gets the same response again.
    co_return BoshReply{200, it->second};
  }
  if (state() == State::kClosed) co_return BoshReply{200, bosh_terminate("item-not-found")};
  if (rid < next_rid_ || rid >= next_rid_ + static_cast<std::uint64_t>(limits_.requests) ||
      early_.contains(rid)) {
    // §14.2: outside the window. The session ends.
    spdlog::info("{}: rid {} outside the window (next {})", log_id(), rid, next_rid_);
    finish();
    co_return BoshReply{200, bosh_terminate("item-not-found")};
  }
  if (waiting_.size() >= static_cast<std::size_t>(limits_.requests)) {
    // §11: more simultaneous requests than agreed.
    spdlog::info("{}: too many simultaneous requests", log_id());
    finish();
    co_return BoshReply{200, bosh_terminate("policy-violation")};
  }
  auto waiter = std::make_shared<Waiter>(executor_, rid);
  waiting_.push_back(waiter);
  early_.emplace(rid, std::move(body));
  co_await process_ready();
  const auto deadline = Clock::now() + std::chrono::seconds(wait_seconds_);
  while (!waiter->response) {
    if (Clock::now() >= deadline) {
      // §7: `wait` passed with nothing to say: an empty body.
      held_.erase(rid);
      waiter->response = take_body();
      break;
    }
    waiter->timer.expires_at(deadline);
    boost::system::error_code ec;
    co_await waiter->timer.async_wait(asio::redirect_error(use_awaitable, ec));
  }
  std::erase(waiting_, waiter);
  answered_[rid] = *waiter->response;
  while (answered_.size() > static_cast<std::size_t>(limits_.requests)) answered_.erase(answered_.begin());
  last_request_ = Clock::now();
  co_return BoshReply{200, *waiter->response};
}

awaitable<void> BoshSession::process_ready() {
  if (processing_) co_return;  // the running loop will reach our rid
  processing_ = true;
  while (state() != State::kClosed) {
    auto it = early_.find(next_rid_);
    if (it == early_.end()) break;
    const auto rid = next_rid_;
    // Owned here, not by a coroutine parameter: GCC 12 mis-destroys
    // by-value class parameters of coroutines.
    auto body = std::make_unique<xml::Element>(std::move(it->second));
    early_.erase(it);
    ++next_rid_;
    for (auto& w : waiting_)
      if (w->rid == rid) held_[rid] = w;
    co_await process(*body);
    dispatch();
  }
  processing_ = false;
  dispatch();
}

awaitable<void> BoshSession::process(xml::Element& body) {
  if (body.attr_or(kXboshRestart) == "true") restart_stream(body);
  for (std::size_t i = 0; i < body.nodes().size(); ++i) {
    xml::Element* child = body.nodes()[i].element.get();
    if (!child || state() == State::kClosed || state() == State::kClosing) continue;
    // Stanzas written without an xmlns inside <body/> inherit httpbind's
    // namespace; XEP-0206 wants jabber:client, and clients such as
    // strophe.js (for elements built by hand) rely on servers reading it so.
    xml::move_to_namespace(*child, kHttpBindNs, ns::kClient);
    co_await on_element(*child);
    co_await pace();
  }
  const bool terminate = body.attr_or("type") == "terminate";
  if (terminate && state() != State::kClosed) {
    on_peer_close();
    finish();
  }
}

void BoshSession::restart_stream(const xml::Element& body) {
  xml::Element header("stream", "http://etherx.jabber.org/streams");
  header.set_attr("to", body.attr_or("to", ctx_.config.domains.front()));
  header.set_attr("version", "1.0");
  on_header(header, true);
}

void BoshSession::dispatch() {
  if (held_.empty()) return;
  if (!pending_.empty() || terminated_) {
    auto oldest = held_.begin();
    oldest->second->response = take_body();
    oldest->second->timer.cancel();
    held_.erase(oldest);
  }
  // §11: never hold more than `hold` requests; the oldest goes back.
  while (held_.size() > static_cast<std::size_t>(hold_)) {
    auto oldest = held_.begin();
    oldest->second->response = take_body();
    oldest->second->timer.cancel();
    held_.erase(oldest);
  }
  if (terminated_) wake_all();
}

std::string BoshSession::take_body() {
  std::string out(kBodyOpen);
  if (terminated_) {
    out += " type='terminate'";
    if (!terminate_condition_.empty()) out += " condition='" + terminate_condition_ + "'";
  }
  if (pending_.empty()) {
    out += "/>";
  } else {
    out += ">";
    out += pending_;
    out += "</body>";
    pending_.clear();
  }
  return out;
}

void BoshSession::wake_all() {
  for (auto& w : waiting_) {
    if (!w->response) w->response = take_body();
    w->timer.cancel();
  }
  held_.clear();
}

void BoshSession::write_stream_open(std::string_view attributes) {
  // The stream id becomes the session's authid.
  auto at = attributes.find(" id='");
  if (at != std::string_view::npos) {
    auto start = at + 5;
    authid_ = std::string(attributes.substr(start, attributes.find('\'', start) - start));
  }
}

void BoshSession::write_stream_close() {
  terminated_ = true;
  dispatch();
}

void BoshSession::write_top(std::string_view xml) {
  if (terminated_) return;
  if (xml.starts_with("<stream:error")) terminate_condition_ = "remote-stream-error";
  pending_.append(xml);
  dispatch();
}

void BoshSession::write_stanza(const xml::Element& stanza) {
  std::string text;
  xml::serialize(text, stanza, ns::kClient);
  write_serialized(text);
}

void BoshSession::write_serialized(std::string_view stanza) {
  if (terminated_) return;
  // Inside <body/> the default namespace is httpbind's.
  pending_ += with_attribute(stanza, " xmlns='jabber:client'");
  dispatch();
}

void BoshSession::close_transport() {
  terminated_ = true;
  if (reap_timer_) reap_timer_->cancel();
  wake_all();
  registry_.remove(sid_);
}

awaitable<void> BoshSession::reap_when_inactive() {
  auto& timer = reap_timer_.emplace(executor_);
  const auto inactivity = std::chrono::seconds(limits_.inactivity_seconds);
  while (state() != State::kClosed && !terminated_) {
    auto now = Clock::now();
    if (waiting_.empty() && now - last_request_ >= inactivity) {
      // §8: no request for `inactivity` seconds: the client is gone.
      spdlog::info("{}: BOSH session inactive", log_id());
      finish();
      break;
    }
    timer.expires_at(waiting_.empty() ? last_request_ + inactivity : now + inactivity);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(use_awaitable, ec));
  }
}

}  // namespace tern::http
