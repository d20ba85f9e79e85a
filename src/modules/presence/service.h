// The presence module's machinery, shared by its facets:
//   subscriptions.cc  subscription stanzas, outbound and inbound (RFC 6121 §3)
//   broadcast.cc      initial, subsequent and unavailable presence, directed
//                     presence, session end (§4.2-4.6)
//   probe.cc          presence probes (§4.3)
//
// Hook handlers run on the sender's shard and must not block. What needs
// storage is a coroutine queued in the router's serial queue under the
// sender's bare JID (Host::queue_next): it awaits the blocking pool and routes
// from the same shard, and the sender's later stanzas wait for it, so a
// contact gets `subscribed`, its roster push and then the presence or
// message sent after it, in that order (RFC 6120 §10.1).
#pragma once

#include <functional>
#include <optional>
#include <set>
#include <span>
#include <string>

#include "core/asio.h"
#include "modules/module.h"
#include "modules/presence/session_state.h"
#include "modules/presence/subscription.h"
#include "modules/roster/rosters.h"

namespace tern::modules::presence {

class PresenceService {
 public:
  explicit PresenceService(ModuleContext& ctx);

  // Hook handlers (on a shard).
  core::Verdict on_pre_route(router::RoutedStanza& ev);
  core::Verdict on_broadcast(router::RoutedStanza& ev);
  core::Verdict on_to_bare(router::RoutedStanza& ev);
  void on_initial_presence(router::Session& session);
  void on_session_ended(router::Session& session);

 private:
  // subscriptions.cc
  awaitable<void> outbound_subscription(xmpp::Jid user_full, xmpp::Jid contact, SubType type,
                                        xml::Element stanza);
  awaitable<void> inbound_subscription(xmpp::Jid user, xmpp::Jid contact, SubType type,
                                       xml::Element stanza);
  // Current (available) or unavailable presence of `owner` to `to`, as a
  // queued step after an approval or a cancellation.
  awaitable<void> send_presence_later(xmpp::Jid owner, xmpp::Jid to, bool available);
  // broadcast.cc
  awaitable<void> broadcast_available(xmpp::Jid from, xml::Element presence, bool initial);
  awaitable<void> broadcast_unavailable(xmpp::Jid from, xml::Element presence,
                                        std::set<std::string> directed);
  awaitable<void> deliver_pending_requests(router::SessionPtr session);
  // probe.cc
  awaitable<void> answer_probe(xmpp::Jid prober, xmpp::Jid contact);

  bool has_available_session(const xmpp::Jid& bare, const xmpp::Jid* except = nullptr) const;
  // An account's last unavailable presence, kept for probes (§4.3.2): the
  // stanza as broadcast, with a XEP-0203 delay saying when.
  static std::string stamped_for_later(const xml::Element& presence);
  void keep_last_unavailable(const storage::AccountKey& owner, const std::string& xml);

  // Sends the current presence of every available resource of `owner` to
  // `to` (probe answers, §3.1.5 after an approval).
  void send_current_presence(const xmpp::Jid& owner, const xmpp::Jid& to);
  // Unavailable from every available resource of `owner` to `to`.
  void send_unavailable_from_all(const xmpp::Jid& owner, const xmpp::Jid& to);

  // Routes a stanza the server sends on a user's behalf. The module's own
  // pre_route handler lets it pass (it is not a client's outbound stanza);
  // every other hook sees it as usual.
  void send(xml::Element stanza);
  // The same for one stanza to many (a broadcast), each copy addressed to
  // its recipient and serialised once (Host::route_copies).
  void send_copies(const xml::Element& stanza, std::span<const xmpp::Jid> recipients);
  // Queues `work` as part of what `sender` has in flight on this shard:
  // after the item running now, before the sender's later stanzas.
  void queue_next(const xmpp::Jid& sender, std::function<awaitable<void>()> work);
  // Queues `work` behind everything `sender` has in flight on this shard.
  void queue_last(const xmpp::Jid& sender, std::function<awaitable<void>()> work);

  Host host_;
  storage::Storage& storage_;
  core::BlockingPool& blocking_;
  // Where subscription changes are stored and pushed (the roster module's).
  std::shared_ptr<roster::Rosters> rosters_;
};

// The document (storage::DocumentStore) holding an account's last
// unavailable presence.
inline constexpr const char* kLastUnavailableKey = "presence:last-unavailable";

// <presence/> in jabber:client with from, to and type (type omitted if empty).
xml::Element make_presence(const std::string& from, const std::string& to, const char* type);

}  // namespace tern::modules::presence
