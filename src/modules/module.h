// The module API: what a feature gets (a narrow context) and what it gives
// (hooks, iq handlers, disco features), all released when it is stopped.
// docs/module_api.md walks through the smallest module (ping) line by line.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/blocking_pool.h"
#include "core/config.h"
#include "core/hook.h"
#include "http/file_route.h"
#include "core/serial_queue.h"
#include "modules/options.h"
#include "modules/services.h"
#include "router/hooks.h"
#include "router/iq_table.h"
#include "router/session_registry.h"
#include "storage/storage.h"

namespace tern::router {
class Router;
}  // namespace tern::router

namespace tern::modules {

struct DiscoItem {
  std::string jid;
  std::string node;
  std::string name;
};
// The disco#items of one node of the server, for one requester (e.g. the
// ad-hoc commands an admin may run).
using DiscoNodeItems = std::function<std::vector<DiscoItem>(const xmpp::Jid& requester)>;

// An identity of an account's bare JID in disco#info beside account/registered
// (e.g. pubsub/pep, XEP-0163).
struct DiscoIdentity {
  std::string category;
  std::string type;
  std::string name;
};
// Items a module adds to an account's disco#items (no node), for a
// requester already allowed to see the account (e.g. its PEP nodes).
using AccountDiscoItems =
    std::function<awaitable<std::vector<DiscoItem>>(const xmpp::Jid& requester, const xmpp::Jid& account)>;

// What the server tells about itself in disco#info (XEP-0030) and stream
// features; modules add to it at start.
struct ServerFeatures {
  std::vector<std::string> disco_features;  // of the server domain
  std::vector<std::string> account_features;  // of every account's bare JID
  // Stream features offered once a client is authenticated (serialized
  // elements, e.g. "<ver xmlns='urn:xmpp:features:rosterver'/>").
  std::vector<std::string> stream_features;
  // Stream features offered before authentication on a confidential stream
  // (TLS, or an HTTP proxy listed as trusted), e.g.
  // "<register xmlns='http://jabber.org/features/iq-register'/>".
  std::vector<std::string> pre_auth_stream_features;
  // The same, offered on a stream without TLS as well.
  std::vector<std::string> pre_auth_plain_stream_features;
  // What a client may enable inline when it binds with its authentication
  // (carbons) and what the answer reports (the archive's metadata).
  std::vector<router::InlineBindFeature> inline_bind;
  // Nodes of the server's disco#items that other modules answer, by node name.
  std::map<std::string, DiscoNodeItems> disco_item_nodes;
  // Items of the server's disco#items without a node: services on
  // subdomains (e.g. the MUC service). A domain lists the items whose JID
  // is a subdomain of it.
  std::vector<DiscoItem> disco_items;
  // Parts of the HTTP listeners' URL space a module serves as files (HTTP
  // upload); the server hands them to the HTTP listeners.
  std::vector<http::FileRoute> file_routes;
  // Identities and items of every account's bare JID that modules add.
  std::vector<DiscoIdentity> account_identities;
  std::vector<AccountDiscoItems> account_items;
  // What modules offer the modules started after them (see services.h).
  ModuleServices services;
};

// What a module may ask of the running server once started: route and
// deliver stanzas, look at (never change) the bound sessions, run work on a
// shard. A small value: modules keep it by copy in their own state. The
// router itself stays out of reach (its definition is not even included):
// a module cannot bind sessions, claim the iq table or change the shards.
class Host {
 public:
  explicit Host(router::Router& router) : router_(&router) {}

  // Routes a stanza as if a session had sent it ('from' must be set or the
  // server's domain is assumed). Call on a shard.
  void route(xml::Element stanza) const;
  void bounce(const xml::Element& stanza, const xmpp::StanzaError& err) const;
  // Bare-JID delivery rules (RFC 6121 §8.5.2) on behalf of an account.
  void route_to_bare(xml::Element stanza, const xmpp::Jid& from, const xmpp::Jid& to) const;
  void deliver(const router::SessionPtr& session, xml::Element stanza) const;
  void deliver_to_all(const std::vector<router::SessionPtr>& sessions,
                      const xml::Element& stanza) const;
  void on_shard_of(const router::SessionPtr& session, std::function<void(router::Session&)> f) const;
  awaitable<void> visit_shard_of(router::SessionPtr session,
                                 std::function<void(router::Session&)> f) const;
  // Runs a coroutine on the calling shard.
  void spawn(awaitable<void> work) const;
  void post_to_shard(unsigned shard, std::function<void()> f) const;
  // One stanza to many recipients, each copy with its own 'to', serialised
  // once (Router::route_copies): room and service fan-out.
  void route_copies(const xml::Element& stanza, std::span<const xmpp::Jid> recipients) const;
  // Queues `task` as part of the work `key` (a sender's bare JID) has in
  // flight on this shard, ahead of that sender's later stanzas (see
  // Router::serial). Call on a shard.
  void queue_next(std::string_view key, core::SerialQueue::Task task) const;
  // Queues `task` behind everything `key` has in flight on this shard. For
  // what must come last of a sender's work: the presence module's
  // unavailable broadcast when a session ends goes after the stanzas the
  // session still had queued. Call on a shard.
  void queue_last(std::string_view key, core::SerialQueue::Task task) const;
  // Ends every session of `bare` with a stream error once the loop of
  // `exec` has finished what it does now, so the iq result being sent there
  // reaches the client first. For deleting an account (XEP-0077 <remove/>,
  // XEP-0133 delete-user, `tern user del`): the one write to the session
  // table a module needs.
  void close_sessions_after_reply(asio::any_io_executor exec, xmpp::Jid bare,
                                  xmpp::StreamCondition condition, std::string text) const;
  // Runs `tick` on shard 0 every `period` until the token goes. Not counted
  // as work in flight: shutdown does not wait for the next tick (what a tick
  // starts with spawn() is counted).
  [[nodiscard]] core::HookToken every(std::chrono::seconds period, std::function<void()> tick) const;
  // Read-only: binding and unbinding are the streams' business.
  const router::SessionRegistry& sessions() const;
  std::vector<router::SessionPtr> best_sessions(const xmpp::Jid& bare) const;
  bool is_local_domain(const std::string& domain) const;
  const std::set<std::string>& domains() const;
  // How many shards run: state kept per key lives on hash(key) % shard_count().
  unsigned shard_count() const;

 private:
  router::Router* router_;
};

// Where an iq a module serves is listed in disco#info (XEP-0030).
enum class Advertise { kNo, kOnServer, kOnAccount };

// One iq a module answers: who it is addressed to, get or set, and the one
// child it must carry (any other child is answered with bad-request before
// the handler runs).
struct IqService {
  router::IqTarget target;
  router::IqType type;
  std::string_view ns;
  // Local name of the child element, alternatives separated by '|'
  // ("enable|disable"); empty: any child, the handler tells them apart.
  std::string_view payload;
  Advertise advertise = Advertise::kNo;
};

// What a module gets at start. Registrations return tokens the module keeps
// in Module::tokens; dropping them removes what it registered. The context
// lives only while the module starts: keep `host` by copy, never the context.
class ModuleContext {
 public:
  ModuleContext(router::Router& router, storage::Storage& storage, core::BlockingPool& blocking,
                const core::Config& config, ServerFeatures& features,
                const std::map<std::string, std::string>& options)
      : host(router), storage(storage), blocking(blocking), config(config), features(features),
        options(options), router_(router) {}

  // Serves one iq, checking its payload and advertising its namespace.
  [[nodiscard]] core::HookToken serve_iq(const IqService& service, router::IqHandler handler);
  [[nodiscard]] core::HookToken serve_iq_sync(const IqService& service,
                                              router::SyncIqHandler handler);
  // Serves a whole domain (a service subdomain such as conference.<domain>):
  // every stanza to it or its JIDs goes to `handler`, on the routing shard.
  [[nodiscard]] core::HookToken serve_domain(std::string domain, router::DomainHandler handler);
  // The handler another module registered for a key, if any (disco uses it
  // to pass on requests for nodes it does not know).
  const router::IqHandler* iq_handler(router::IqTarget target, router::IqType type,
                                      const std::string& ns) const;
  // The typed events modules hook into (see router::RouterHooks).
  router::RouterHooks& hooks();

  Host host;
  storage::Storage& storage;
  core::BlockingPool& blocking;
  const core::Config& config;
  ServerFeatures& features;
  // This module's own [modules.<name>] table, raw.
  const std::map<std::string, std::string>& options;

 private:
  void advertise(const IqService& service);
  router::Router& router_;
};

class Module {
 public:
  virtual ~Module() = default;
  // Tokens of what the module registered; dropped with the module.
  std::vector<core::HookToken> tokens;
};

using StartModule = std::unique_ptr<Module> (*)(ModuleContext& ctx);
// A module's options as documented, each with its value read from `raw` (an
// empty table: the defaults); throws as the module's start would for a bad
// table. Generated from the module's declaration (modules/options.h).
using DescribeOptions = std::vector<core::ModuleOptionDoc> (*)(
    std::string_view module, const std::map<std::string, std::string>& raw);

struct ModuleInfo {
  const char* name;
  const char* description;  // one line, for the README's list
  StartModule start;
  // Modules start in ascending rank: a module that reads what others
  // registered (disco reads every feature) ranks after them.
  int rank = 50;
  // nullptr: the module has no options.
  DescribeOptions options = nullptr;
};

// Every module compiled into the binary, in start order. Modules add
// themselves with TERN_MODULE in their own .cc file, so a new module touches
// only its own folder.
const std::vector<ModuleInfo>& builtin_modules();

// The documented options of every built-in module that has some, by module
// name: what `tern config reference` and tern.example.toml show.
std::vector<core::ModuleOptionDocs> builtin_option_docs();

// Adds a module to builtin_modules(); used at static initialisation only.
struct ModuleRegistrar {
  explicit ModuleRegistrar(ModuleInfo info);
};

#define TERN_MODULE_CONCAT_(a, b) a##b
#define TERN_MODULE_CONCAT(a, b) TERN_MODULE_CONCAT_(a, b)
// TERN_MODULE("ping", "XEP-0199 XMPP Ping", &start_ping, 50);
// A module with options names their declaration last (modules/options.h):
// TERN_MODULE("roster", "RFC 6121 §2 rosters", &start_roster, 10, kRosterOptions);
#define TERN_MODULE(name, description, start, rank, ...)                                 \
  static const ::tern::modules::ModuleRegistrar TERN_MODULE_CONCAT(tern_module_, __LINE__)( \
      ::tern::modules::ModuleInfo{                                                        \
          name, description, start,                                                       \
          rank __VA_OPT__(, &::tern::modules::describe_declared_options<__VA_ARGS__>)})

}  // namespace tern::modules
