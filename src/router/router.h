// The router: decides where a stanza goes by its addresses alone (RFC 6120
// §10, RFC 6121 §8). It knows JIDs, sessions, the iq table and hooks; it
// knows nothing of rosters or rooms — modules hook in for those.
//
// Where "a message to a bare JID" is decided: Router::route_to_bare().
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <span>
#include <string>

#include "core/asio.h"
#include "core/hook.h"
#include "core/serial_queue.h"
#include "core/shards.h"
#include "core/work_counter.h"
#include "router/hooks.h"
#include "router/iq_table.h"
#include "router/session_registry.h"

namespace tern::router {

// Does this account exist? Runs on the blocking pool.
using AccountExists = std::function<awaitable<bool>(const xmpp::Jid& bare)>;

class Router {
 public:
  Router(core::Shards& shards, std::set<std::string> local_domains, AccountExists account_exists);

  SessionRegistry& sessions() { return sessions_; }
  IqTable& iq() { return iq_; }
  RouterHooks& hooks() { return hooks_; }
  bool is_local_domain(const std::string& domain) const { return domains_.count(domain) > 0; }
  const std::set<std::string>& domains() const { return domains_; }

  // Routes a stanza whose 'from' the stream has stamped. Call on a shard.
  // For what the server and its modules send, which is part of the work in
  // flight that sends it: at once, unless that work has already queued
  // steps of its own (push_next) that this stanza must not overtake.
  void route(xml::Element stanza);
  // Routes a stanza a client sent (its stream stamped 'from'), behind
  // whatever its account still has in flight on this shard (RFC 6120 §10.1;
  // see docs/stanza_routing.md). With nothing in flight, at once.
  void route_from_session(xml::Element stanza);
  // This shard's queue of in-flight work, keyed by the sender's bare JID.
  // Hook handlers and iq handlers that await storage queue their work here
  // (push_next), so that the sender's next stanzas wait for it.
  core::SerialQueue& serial();
  // Sends the error reply to `stanza` (never for a stanza of type error).
  void bounce(const xml::Element& stanza, const xmpp::StanzaError& err);
  // Hands a stanza to one session, on that session's shard. For a session
  // on another shard the stanza is serialised here, on the routing shard,
  // and the bytes are posted (see SerializedStanza).
  void deliver(const SessionPtr& session, xml::Element stanza);
  // The same stanza to several sessions: serialised at most once, however
  // many of them live on other shards.
  void deliver_to_all(const std::vector<SessionPtr>& sessions, const xml::Element& stanza);
  // Routes one stanza to each of `recipients`, every copy addressed to its
  // recipient (a room's message to its occupants, an event to subscribers).
  // Copies for bound sessions here skip the tree: the stanza is serialised
  // once, each copy is those bytes with its own 'to', and a shard that holds
  // recipients gets one post for all of them. Every copy still passes the
  // pre_route hook (blocking) and, for messages, message_delivery (push);
  // a hook that changes a copy handles it (the bytes are made before the
  // hooks run, so the stanzas for this path are those no hook rewrites in
  // passing: from rooms and services, and presence broadcasts, which the
  // hooks saw before they were broadcast). Plain presence to a local
  // account's bare JID also passes to_bare and goes to each of its
  // available resources, as route() would send it. Copies for other
  // domains, other bare JIDs or absent sessions take the ordinary route.
  void route_copies(const xml::Element& stanza, std::span<const xmpp::Jid> recipients);
  // Runs `f` with the session on the session's own shard.
  void on_shard_of(const SessionPtr& session, std::function<void(Session&)> f);
  // The same, resuming the calling coroutine once `f` has run: for work
  // that must see the session's shard-owned state before going on.
  awaitable<void> visit_shard_of(SessionPtr session, std::function<void(Session&)> f);

  // Runs a coroutine on the calling shard (for hook handlers that need storage).
  void spawn(awaitable<void> work);
  // Runs `f` on shard `shard` (for modules working off the shards).
  void post_to_shard(unsigned shard, std::function<void()> f);
  // The event loop of a shard, for timers (not counted as work in flight).
  asio::any_io_executor shard_executor(unsigned shard) {
    return shards_.loop(shard % shards_.size()).get_executor();
  }
  // Coroutines spawned and closures posted through the router (iq handlers,
  // module work) that have not finished yet; any thread. Direct stanza
  // deliveries are not counted: they end at a session and queue no work.
  std::size_t pending_work() const { return pending_.count(); }

  // Routes every stanza to `domain` (and its JIDs) to `handler`, after the
  // pre_route hook. The domain is not one of our account domains: nothing
  // else (iq table, to_bare) sees these stanzas. Dropping the token
  // releases the domain. Throws if it is claimed already (a startup bug).
  [[nodiscard]] core::HookToken claim_domain(std::string domain, DomainHandler handler);
  bool is_claimed_domain(const std::string& domain) const;
  // How many shards run (a module that keeps state on one shard per key
  // hashes the key onto them).
  unsigned shard_count() const { return shards_.size(); }

  // Bare-JID rules, exposed for modules that route on behalf of an account.
  void route_to_bare(xml::Element stanza, const xmpp::Jid& from, const xmpp::Jid& to);
  // Available sessions of `bare` with the highest non-negative priority.
  std::vector<SessionPtr> best_sessions(const xmpp::Jid& bare) const;

 private:
  void route_now(xml::Element stanza);
  std::shared_ptr<const DomainHandler> claimed_handler(const std::string& domain) const;
  // Runs route_now(stanza) as a step of `key`'s lane (push_next or push_back).
  void queue_route(std::string_view key, xml::Element stanza, bool next);
  void route_local(xml::Element stanza, const xmpp::Jid& from, const xmpp::Jid& to, bool had_to);
  void route_to_full(xml::Element stanza, const xmpp::Jid& from, const xmpp::Jid& to);
  void dispatch_iq(xml::Element stanza, const xmpp::Jid& from, const xmpp::Jid& to, bool had_to);
  // Takes the handler by value: its module may stop while this runs.
  awaitable<void> run_iq(IqHandler handler, IqRequest req);
  awaitable<void> deliver_or_bounce_bare(xml::Element stanza, xmpp::Jid from, xmpp::Jid to);
  asio::io_context& current_loop();
  void post_serialized(const SessionPtr& session, SerializedStanza bytes);
  // route_copies once nothing of the sender is queued ahead: `copy` has no
  // 'to' (each copy's is set in turn).
  void route_copies_now(xml::Element& copy, const xmpp::Jid& from, std::span<const xmpp::Jid> recipients);
  // Whether route_copies may take its fast path for `to`.
  bool takes_copy_directly(const xmpp::Jid& to) const;
  // Runs the message_delivery hook for a message about to reach `receivers`.
  void announce_delivery(xml::Element& stanza, const xmpp::Jid& from, const xmpp::Jid& to,
                         std::span<const SessionPtr> receivers);
  void spawn_counted(awaitable<void> work);

  core::Shards& shards_;
  std::set<std::string> domains_;
  AccountExists account_exists_;
  SessionRegistry sessions_;
  IqTable iq_;
  RouterHooks hooks_;
  core::WorkCounter pending_;
  std::vector<std::unique_ptr<core::SerialQueue>> queues_;  // one per shard
  // Claimed at module start, read by every shard: a lock, and a shared_ptr
  // so a handler being released while one shard runs it stays alive.
  mutable std::mutex claimed_mutex_;
  std::map<std::string, std::shared_ptr<const DomainHandler>> claimed_domains_;
};

}  // namespace tern::router
