// The presence module's machinery, shared by its facets:
//   subscriptions.cc  subscription stanzas, outbound and inbound (RFC 6121 §3)
//   broadcast.cc      initial, subsequent and unavailable presence, directed
//                     presence, session end (§4.2-4.6)
//   probe.cc          presence probes (§4.3)
//
// Hook handlers run on a shard and must not block; what needs storage goes
// to one worker thread of the module's own (FIFO: one user's stanzas are
// handled in the order sent), which then hops back to a shard for every
// router call. The worker may block on storage: it is no shard.
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "core/asio.h"
#include "modules/module.h"
#include "modules/presence/subscription.h"

namespace tern::modules::presence {

class PresenceService {
 public:
  explicit PresenceService(ModuleContext& ctx);
  ~PresenceService();

  // Hook handlers (on a shard).
  core::Verdict on_pre_route(router::RoutedStanza& ev);
  core::Verdict on_broadcast(router::RoutedStanza& ev);
  core::Verdict on_to_bare(router::RoutedStanza& ev);
  void on_initial_presence(router::Session& session);
  void on_session_ended(router::Session& session);

 private:
  // subscriptions.cc — on the worker.
  void outbound_subscription(unsigned shard, xmpp::Jid user_full, xmpp::Jid contact, SubType type,
                             xml::Element stanza);
  void inbound_subscription(unsigned shard, xmpp::Jid user, xmpp::Jid contact, SubType type,
                            xml::Element stanza);
  // broadcast.cc — on the worker.
  void broadcast_available(unsigned shard, xmpp::Jid from, xml::Element presence, bool initial);
  void broadcast_unavailable(unsigned shard, xmpp::Jid from, xml::Element presence,
                             std::set<std::string> directed);
  void deliver_pending_requests(unsigned shard, router::SessionPtr session);
  // probe.cc — on the worker.
  void answer_probe(unsigned shard, xmpp::Jid prober, xmpp::Jid contact);

  // On a shard: sends the current presence of every available resource of
  // `owner` to `to` (probe answers, §3.1.5 after an approval).
  void send_current_presence(const xmpp::Jid& owner, const xmpp::Jid& to);
  // On a shard: unavailable from every available resource of `owner` to `to`.
  void send_unavailable_from_all(const xmpp::Jid& owner, const xmpp::Jid& to);

  // Routes a stanza the server sends on a user's behalf. The module's own
  // pre_route handler lets it pass (it is not a client's outbound stanza);
  // every other hook sees it as usual.
  void send(xml::Element stanza);
  // Runs `f` on the worker; `f` may block.
  void on_worker(std::function<void()> f);
  // Runs `f` on shard `shard` (where router calls belong).
  void on_shard(unsigned shard, std::function<void()> f);
  static unsigned current_shard();

  router::Router& router_;
  storage::Storage& storage_;
  // The roster module's modules.roster.max_items: a subscription request
  // must not grow a roster past it either.
  std::size_t max_roster_items_ = 1000;

  asio::io_context worker_ctx_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> worker_guard_;
  std::thread worker_;
};

// <presence/> in jabber:client with from, to and type (type omitted if empty).
xml::Element make_presence(const std::string& from, const std::string& to, const char* type);

}  // namespace tern::modules::presence
