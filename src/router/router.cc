#include "router/router.h"
#include <stdexcept>

#include "core/log.h"
#include "xml/serializer.h"
#include "xmpp/namespaces.h"

namespace tern::router {
namespace {

using xmpp::StanzaCondition;
using xmpp::StanzaError;

bool is_subscription_type(std::string_view type) {
  return type == "subscribe" || type == "subscribed" || type == "unsubscribe" ||
         type == "unsubscribed";
}

}  // namespace

Router::Router(core::Shards& shards, std::set<std::string> local_domains,
               AccountExists account_exists)
    : shards_(shards), domains_(std::move(local_domains)), account_exists_(std::move(account_exists)) {
  for (unsigned i = 0; i < shards_.size(); ++i)
    queues_.push_back(std::make_unique<core::SerialQueue>(shards_.loop(i).get_executor(), &pending_));
}

core::SerialQueue& Router::serial() {
  int shard = core::Shards::current();
  return *queues_[shard < 0 ? 0 : static_cast<unsigned>(shard)];
}

namespace {

// The bare part of a stamped 'from' (node@domain/resource): neither node nor
// domain may hold a '/', so the first one ends the bare JID.
std::string_view bare_of(std::string_view full) { return full.substr(0, full.find('/')); }

}  // namespace

void Router::route_from_session(xml::Element stanza) {
  auto& queue = serial();
  // The hot path: nothing in flight on this shard, route now, no lookup.
  if (queue.is_idle()) {
    route_now(std::move(stanza));
    return;
  }
  const std::string_view key = bare_of(stanza.attr_or("from"));
  if (!queue.is_busy(key)) {
    route_now(std::move(stanza));
    return;
  }
  queue_route(key, std::move(stanza), false);
}

void Router::route(xml::Element stanza) {
  auto& queue = serial();
  if (!queue.is_idle()) {
    const std::string_view key = bare_of(stanza.attr_or("from"));
    if (!key.empty() && queue.has_queued_next(key)) {
      queue_route(key, std::move(stanza), true);
      return;
    }
  }
  route_now(std::move(stanza));
}

void Router::queue_route(std::string_view key, xml::Element stanza, bool next) {
  const std::string lane(key);  // `key` points into the stanza, which moves
  auto held = std::make_shared<xml::Element>(std::move(stanza));
  auto task = core::SerialQueue::from_sync([this, held] { route_now(std::move(*held)); });
  if (next) {
    serial().push_next(lane, std::move(task));
  } else {
    serial().push_back(lane, std::move(task));
  }
}

asio::io_context& Router::current_loop() {
  int shard = core::Shards::current();
  return shards_.loop(shard < 0 ? 0 : static_cast<unsigned>(shard));
}

namespace {

SerializedStanza serialize_for_delivery(const xml::Element& stanza) {
  auto bytes = std::make_shared<std::string>();
  xml::serialize(*bytes, stanza, ns::kClient);
  return bytes;
}

}  // namespace

void Router::deliver(const SessionPtr& session, xml::Element stanza) {
  if (core::Shards::current() == static_cast<int>(session->shard())) {
    session->deliver(stanza);
    return;
  }
  // The tree dies here, on the thread that built it; only bytes travel.
  post_serialized(session, serialize_for_delivery(stanza));
}

void Router::deliver_to_all(const std::vector<SessionPtr>& sessions, const xml::Element& stanza) {
  const int here = core::Shards::current();
  SerializedStanza bytes;  // made at the first session on another shard
  for (const auto& session : sessions) {
    if (here == static_cast<int>(session->shard())) {
      session->deliver(stanza);
      continue;
    }
    if (!bytes) bytes = serialize_for_delivery(stanza);
    post_serialized(session, bytes);
  }
}

namespace {

// A stanza serialised once, with the place where each copy's 'to' goes:
// right after the element name.
struct AddressedBytes {
  std::string bytes;
  std::size_t to_at;

  explicit AddressedBytes(const xml::Element& stanza_without_to) {
    xml::serialize(bytes, stanza_without_to, ns::kClient);
    to_at = 1 + stanza_without_to.name().size();
  }
  SerializedStanza for_recipient(std::string_view to) const {
    std::string out;
    out.reserve(bytes.size() + to.size() + 6);
    out.append(bytes, 0, to_at);
    out += " to='";
    xml::append_escaped_attr(out, to);
    out += '\'';
    out.append(bytes, to_at);
    return std::make_shared<const std::string>(std::move(out));
  }
};

using Addressed = std::pair<SessionPtr, SerializedStanza>;

}  // namespace

bool Router::takes_copy_directly(const xmpp::Jid& to) const {
  return to.is_full() && to.has_node() && is_local_domain(to.domain());
}

void Router::route_copies(const xml::Element& stanza, std::span<const xmpp::Jid> recipients) {
  if (recipients.empty()) return;
  xml::Element copy = stanza;
  copy.remove_attr("to");
  const auto from = xmpp::Jid::parse(copy.attr_or("from"));
  if (!from) {
    for (const auto& to : recipients) {
      xml::Element one = copy;
      one.set_attr("to", to.to_string());
      route(std::move(one));
    }
    return;
  }
  // Work of the sender still queued ahead (push_next) keeps its place: the
  // copies wait behind it as one step, as route() would queue one stanza.
  const std::string_view key = bare_of(copy.attr_or("from"));
  if (!serial().is_idle() && serial().has_queued_next(key)) {
    const std::string lane(key);
    auto held = std::make_shared<std::pair<xml::Element, std::vector<xmpp::Jid>>>(
        std::move(copy), std::vector<xmpp::Jid>(recipients.begin(), recipients.end()));
    serial().push_next(lane, core::SerialQueue::from_sync([this, held, from = *from] {
      route_copies_now(held->first, from, held->second);
    }));
    return;
  }
  route_copies_now(copy, *from, recipients);
}

void Router::route_copies_now(xml::Element& copy, const xmpp::Jid& from,
                              std::span<const xmpp::Jid> recipients) {
  const AddressedBytes addressed(copy);
  const bool is_message = copy.name() == "message";
  // Plain presence to an account's bare JID (a broadcast to contacts) goes
  // to each of its available resources, after the same hooks as route().
  const bool is_plain_presence = copy.name() == "presence" && !is_subscription_type(copy.attr_or("type"));
  std::vector<std::vector<Addressed>> by_shard(shards_.size());
  for (const auto& to : recipients) {
    const std::string to_text = to.to_string();
    copy.set_attr("to", to_text);
    if (is_plain_presence && !to.is_full() && to.has_node() && is_local_domain(to.domain())) {
      RoutedStanza ev{copy, from, to, true};
      if (hooks_.pre_route.run(ev) == core::Verdict::kHandled) continue;
      if (hooks_.to_bare.run(ev) == core::Verdict::kHandled) continue;
      SerializedStanza bytes;  // RFC 6121 §8.5.2.1.1: 'to' stays the bare JID
      sessions_.for_each_of(to, [&](const SessionPtr& session) {
        if (!session->is_available()) return;
        if (!bytes) bytes = addressed.for_recipient(to_text);
        by_shard[session->shard()].emplace_back(session, bytes);
      });
      continue;
    }
    if (!takes_copy_directly(to)) {
      route_now(copy);
      continue;
    }
    RoutedStanza ev{copy, from, to, true};
    if (hooks_.pre_route.run(ev) == core::Verdict::kHandled) continue;
    auto session = sessions_.find(to);
    if (!session) {
      route_to_full(copy, from, to);  // RFC 6121 §8.5.3.2, as for one stanza
      continue;
    }
    if (is_message) announce_delivery(copy, from, to, {&session, 1});
    by_shard[session->shard()].emplace_back(std::move(session), addressed.for_recipient(to_text));
  }
  const int here = core::Shards::current();
  for (unsigned shard = 0; shard < by_shard.size(); ++shard) {
    auto& batch = by_shard[shard];
    if (batch.empty()) continue;
    if (static_cast<int>(shard) == here) {
      for (auto& [session, bytes] : batch) session->deliver_serialized(bytes);
      continue;
    }
    asio::post(shards_.loop(shard), [batch = std::move(batch)] {
      for (auto& [session, bytes] : batch) session->deliver_serialized(bytes);
    });
  }
}

void Router::post_serialized(const SessionPtr& session, SerializedStanza bytes) {
  asio::post(shards_.loop(session->shard()),
             [session, bytes = std::move(bytes)] { session->deliver_serialized(bytes); });
}

void Router::spawn(awaitable<void> work) { spawn_counted(std::move(work)); }

// The ticket rides in the completion handler, so the work counts until the
// coroutine has finished (or its loop is destroyed without running it).
void Router::spawn_counted(awaitable<void> work) {
  asio::co_spawn(current_loop(), std::move(work),
                 [t = pending_.take()](std::exception_ptr) {});
}

void Router::post_to_shard(unsigned shard, std::function<void()> f) {
  asio::post(shards_.loop(shard % shards_.size()),
             [f = std::move(f), t = pending_.take()] { f(); });
}

void Router::on_shard_of(const SessionPtr& session, std::function<void(Session&)> f) {
  if (core::Shards::current() == static_cast<int>(session->shard())) {
    f(*session);
    return;
  }
  asio::post(shards_.loop(session->shard()),
             [session, f = std::move(f), t = pending_.take()] { f(*session); });
}

namespace {
awaitable<void> run_with_session(SessionPtr session, std::function<void(Session&)> f) {
  f(*session);
  co_return;
}
}  // namespace

awaitable<void> Router::visit_shard_of(SessionPtr session, std::function<void(Session&)> f) {
  if (core::Shards::current() == static_cast<int>(session->shard())) {
    f(*session);
    co_return;
  }
  auto exec = shards_.loop(session->shard()).get_executor();
  // Built before the co_await expression: GCC 12 mishandles non-trivial
  // temporaries inside one (seen as use-after-free under ASan).
  auto work = run_with_session(std::move(session), std::move(f));
  co_await asio::co_spawn(exec, std::move(work), use_awaitable);
}

void Router::bounce(const xml::Element& stanza, const StanzaError& err) {
  if (stanza.attr_or("type") == "error") return;  // never answer an error with an error
  route(xmpp::make_error_reply(stanza, err));
}

core::HookToken Router::claim_domain(std::string domain, DomainHandler handler) {
  std::lock_guard lock(claimed_mutex_);
  if (domains_.count(domain) || claimed_domains_.count(domain))
    throw std::logic_error("router: domain " + domain + " is served already");
  claimed_domains_.emplace(domain, std::make_shared<const DomainHandler>(std::move(handler)));
  return core::HookToken([this, domain] {
    std::lock_guard lock(claimed_mutex_);
    claimed_domains_.erase(domain);
  });
}

bool Router::is_claimed_domain(const std::string& domain) const {
  return claimed_handler(domain) != nullptr;
}

std::shared_ptr<const DomainHandler> Router::claimed_handler(const std::string& domain) const {
  std::lock_guard lock(claimed_mutex_);
  auto it = claimed_domains_.find(domain);
  return it == claimed_domains_.end() ? nullptr : it->second;
}

void Router::route_now(xml::Element stanza) {
  // The stream has stamped 'from'; stanzas the server itself sends may have
  // none, and then come from our first domain.
  std::optional<xmpp::Jid> from;
  if (auto f = stanza.attr("from")) {
    from = xmpp::Jid::parse(*f);
  } else {
    from = xmpp::Jid::from_parts({}, *domains_.begin());
  }
  if (!from) {
    spdlog::warn("router: dropping a stanza with an invalid from");
    return;
  }
  auto to_attr = stanza.attr("to");
  if (!to_attr) {
    RoutedStanza ev{stanza, *from, from->bare(), false};
    if (hooks_.pre_route.run(ev) == core::Verdict::kHandled) return;
    if (stanza.name() == "presence") {
      hooks_.presence_broadcast.run(ev);
      return;
    }
    route_local(std::move(stanza), *from, from->bare(), false);
    return;
  }
  auto to = xmpp::Jid::parse(*to_attr);
  if (!to) {
    // The reply would come "from" the malformed address, which cannot be
    // routed; it comes from the server instead.
    if (stanza.attr_or("type") != "error") {
      auto reply = xmpp::make_error_reply(stanza, StanzaError(StanzaCondition::kJidMalformed));
      reply.remove_attr("from");
      route(std::move(reply));
    }
    return;
  }
  RoutedStanza ev{stanza, *from, *to, true};
  if (hooks_.pre_route.run(ev) == core::Verdict::kHandled) return;
  if (auto claimed = claimed_handler(to->domain())) {
    (*claimed)(std::move(stanza), *from, *to);
    return;
  }
  if (!is_local_domain(to->domain())) {
    if (hooks_.to_remote.run(ev) == core::Verdict::kHandled) return;
    if (stanza.name() != "presence")
      bounce(stanza, StanzaError(StanzaCondition::kRemoteServerNotFound));
    return;
  }
  route_local(std::move(stanza), *from, *to, true);
}

void Router::route_local(xml::Element stanza, const xmpp::Jid& from, const xmpp::Jid& to,
                         bool had_to) {
  // Subscriptions are a matter between accounts (RFC 6121 §3): whatever
  // resource they name, they are handled at the bare JID.
  if (to.is_full() && stanza.name() == "presence" && is_subscription_type(stanza.attr_or("type"))) {
    route_local(std::move(stanza), from, to.bare(), had_to);
    return;
  }
  if (to.is_full()) {
    route_to_full(std::move(stanza), from, to);
    return;
  }
  if (stanza.name() == "iq") {
    dispatch_iq(std::move(stanza), from, to, had_to);
    return;
  }
  RoutedStanza ev{stanza, from, to, had_to};
  if (!to.has_node()) {
    if (hooks_.to_server.run(ev) == core::Verdict::kHandled) return;
    // RFC 6120 §10.3.1: nothing here handles it.
    if (stanza.name() == "message" && stanza.attr_or("type") != "headline")
      bounce(stanza, StanzaError(StanzaCondition::kServiceUnavailable));
    return;
  }
  if (hooks_.to_bare.run(ev) == core::Verdict::kHandled) return;
  route_to_bare(std::move(stanza), from, to);
}

void Router::route_to_full(xml::Element stanza, const xmpp::Jid& from, const xmpp::Jid& to) {
  if (auto session = sessions_.find(to)) {
    if (stanza.name() == "message") announce_delivery(stanza, from, to, {&session, 1});
    deliver(session, std::move(stanza));
    return;
  }
  // RFC 6121 §8.5.3.2: no session with that resource.
  const auto& name = stanza.name();
  const auto type = std::string(stanza.attr_or("type"));
  if (name == "iq") {
    if (type == "get" || type == "set")
      bounce(stanza, StanzaError(StanzaCondition::kServiceUnavailable));
    return;
  }
  if (name == "message") {
    if (type == "groupchat") {
      bounce(stanza, StanzaError(StanzaCondition::kServiceUnavailable));
    } else if (type != "error") {
      route_to_bare(std::move(stanza), from, to.bare());
    }
    return;
  }
  if (name == "presence" && is_subscription_type(type)) route_to_bare(std::move(stanza), from, to.bare());
}

void Router::announce_delivery(xml::Element& stanza, const xmpp::Jid& from, const xmpp::Jid& to,
                               std::span<const SessionPtr> receivers) {
  if (hooks_.message_delivery.empty()) return;
  MessageDelivery ev{stanza, from, to, receivers};
  hooks_.message_delivery.run(ev);
}

std::vector<SessionPtr> Router::best_sessions(const xmpp::Jid& bare) const {
  std::vector<SessionPtr> best;
  int top = -1;
  for (auto& s : sessions_.sessions_of(bare)) {
    if (!s->is_available() || s->priority() < 0) continue;
    if (s->priority() > top) {
      top = s->priority();
      best.clear();
    }
    if (s->priority() == top) best.push_back(s);
  }
  return best;
}

void Router::route_to_bare(xml::Element stanza, const xmpp::Jid& from, const xmpp::Jid& to) {
  const auto type = std::string(stanza.attr_or("type"));
  if (stanza.name() == "presence") {
    // Modules (presence, roster) decide subscriptions; what reaches here is
    // plain presence: every available resource gets it (RFC 6121 §8.5.2.1.1).
    auto sessions = sessions_.sessions_of(to);
    std::erase_if(sessions, [](const SessionPtr& s) { return !s->is_available(); });
    deliver_to_all(sessions, stanza);
    return;
  }
  if (stanza.name() != "message") return;
  if (type == "error") return;
  if (type == "groupchat") {
    bounce(stanza, StanzaError(StanzaCondition::kServiceUnavailable));
    return;
  }
  std::vector<SessionPtr> targets;
  if (type == "headline") {
    for (auto& s : sessions_.sessions_of(to))
      if (s->is_available() && s->priority() >= 0) targets.push_back(s);
  } else {
    targets = best_sessions(to);
  }
  if (!targets.empty()) announce_delivery(stanza, from, to, targets);
  if (targets.size() == 1) {
    deliver(targets.front(), std::move(stanza));
    return;
  }
  if (!targets.empty()) {
    deliver_to_all(targets, stanza);
    return;
  }
  RoutedStanza ev{stanza, from, to, true};
  if (hooks_.undelivered.run(ev) == core::Verdict::kHandled) return;
  if (type == "headline") return;
  spawn_counted(deliver_or_bounce_bare(std::move(stanza), from, to));
}

awaitable<void> Router::deliver_or_bounce_bare(xml::Element stanza, xmpp::Jid from, xmpp::Jid to) {
  // Nobody stores it: whether the account exists or not, the sender learns
  // it was not delivered (RFC 6121 §8.5.2.1.1, §8.5.1). The lookup only
  // decides the log line.
  bool exists = false;
  try {
    exists = co_await account_exists_(to);
  } catch (const std::exception& e) {
    spdlog::error("router: account lookup for {} failed: {}", to.bare_string(), e.what());
  }
  spdlog::debug("router: message to {} ({}) not delivered", to.bare_string(),
                exists ? "offline" : "no such account");
  bounce(stanza, StanzaError(StanzaCondition::kServiceUnavailable));
}

void Router::dispatch_iq(xml::Element stanza, const xmpp::Jid& from, const xmpp::Jid& to,
                         bool had_to) {
  const auto type = stanza.attr_or("type");
  if (type != "get" && type != "set") {
    // Responses to requests the server or a module sent (e.g. a push
    // notification published from an account's bare JID).
    RoutedStanza ev{stanza, from, to, had_to};
    hooks_.iq_response.run(ev);
    return;
  }
  auto children = stanza.children();
  if (children.size() != 1) {
    bounce(stanza, StanzaError(StanzaCondition::kBadRequest, "an iq get/set has exactly one child"));
    return;
  }
  const auto iq_type = type == "get" ? IqType::kGet : IqType::kSet;
  const std::string& ns = children.front()->ns();
  const IqHandler* handler = nullptr;
  if (to.has_node()) {
    handler = iq_.find(IqTarget::kAccount, iq_type, ns);
  }
  if (!handler && (!to.has_node() || !had_to)) handler = iq_.find(IqTarget::kServer, iq_type, ns);
  if (!handler) {
    bounce(stanza, StanzaError(StanzaCondition::kServiceUnavailable));
    return;
  }
  // In the sender's queue: its later stanzas (a subscribe after a roster
  // set) wait for this one's storage work and pushes (RFC 6120 §10.1).
  auto req = std::make_shared<IqRequest>(IqRequest{std::move(stanza), from, to, iq_type, {}});
  serial().push_next(from.bare_string(), [this, h = *handler, req] { return run_iq(h, std::move(*req)); });
}

awaitable<void> Router::run_iq(IqHandler handler, IqRequest req) {
  IqReply reply;
  try {
    reply = co_await handler(req);
  } catch (const std::exception& e) {
    // A module bug must not take the session down: log it and answer.
    spdlog::error("router: iq handler for {} failed: {}", req.payload().ns(), e.what());
    reply = IqReply::fail(StanzaError(StanzaCondition::kInternalServerError));
  }
  if (reply.error) {
    bounce(req.stanza, *reply.error);
    co_return;
  }
  auto result = xmpp::make_iq_result(req.stanza);
  if (reply.payload) result.add_child(std::move(*reply.payload));
  route(std::move(result));
}

}  // namespace tern::router
