// The events the router raises and the handler types modules register: what
// a module needs to hook into routing without seeing the Router itself
// (modules/module.h includes this, not router.h).
#pragma once

#include <functional>
#include <span>

#include "core/asio.h"
#include "core/hook.h"
#include "router/session.h"
#include "xml/element.h"
#include "xmpp/jid.h"

namespace tern::router {

// A stanza on its way, with its parsed addresses. Hook handlers may change
// the stanza (e.g. add a <delay/>) before letting it pass.
struct RoutedStanza {
  xml::Element& stanza;
  xmpp::Jid from;
  xmpp::Jid to;  // for a stanza without 'to' from a client: the sender's bare JID
  bool had_to = true;
};

// A message about to be handed to sessions of a local account: `receivers`
// are the sessions RFC 6121 §8.5 picked. Handlers may change the stanza
// (e.g. strip a hint meant for the server) and deliver copies elsewhere.
struct MessageDelivery {
  xml::Element& stanza;
  const xmpp::Jid& from;
  const xmpp::Jid& to;
  std::span<const SessionPtr> receivers;
};

// A session-level event; handlers run on the session's shard.
struct SessionEvent {
  Session& session;
};

// A session moved to another object (XEP-0198): its connection broke and a
// stream::HibernatedSession holds it now, or a new stream resumed it.
// `fresh` has the address and the module state of `old` (presence, roster
// interest, …), and `old` ends without a trace.
// Runs on the old object's shard; for modules that keep sessions by pointer.
struct SessionMoved {
  Session& old;
  Session& fresh;
};

// The server is stopping: runs once on every shard, after the listeners
// stopped accepting and before the streams close, so that what a module
// sends then (a room's "system shutdown" presences) still reaches the
// sessions. Modules must not start new work that outlives the stop.
struct ServerStopping {
  unsigned shard;
};

// The events modules hook into. Names say when they run.
struct RouterHooks {
  core::Hook<RoutedStanza> pre_route;          // every stanza from a local session (blocking, …)
  core::Hook<RoutedStanza> to_server;          // message/presence to our domain itself
  core::Hook<RoutedStanza> to_bare;            // message/presence to a local bare JID
  core::Hook<RoutedStanza> presence_broadcast; // presence without 'to' from a client
  core::Hook<RoutedStanza> undelivered;        // message for a local account with no session that takes it
  core::Hook<RoutedStanza> to_remote;          // stanza for another domain (s2s, components)
  core::Hook<MessageDelivery> message_delivery; // message chosen for sessions of a local account (carbons)
  // presence_broadcast runs before the stream marks the session available,
  // so `!session.is_available()` there means "initial presence".
  core::Hook<SessionEvent> session_bound;      // a resource was bound
  core::Hook<SessionEvent> initial_presence;   // after the first available presence was handled
  core::Hook<SessionEvent> session_ended;      // a bound session is gone (unbound already)
  core::Hook<SessionMoved> session_moved;      // hibernated, or resumed by a new stream (XEP-0198)
  core::Hook<RoutedStanza> iq_response;        // iq result/error to a local account or domain
  core::Hook<ServerStopping> server_stopping;  // on every shard, before the streams close
};

// What a module does when a client binds a resource inline with its
// authentication (the stream offers `feature` among what it can enable
// there). `run` sees the client's whole bind request, finds in it what the
// module enables (or enables nothing), and adds to `bound` what it reports
// back. Runs on the session's shard once the session is bound, before the
// client hears of it; the module outlives the streams, so `run` may keep a
// pointer to its state.
struct InlineBindFeature {
  std::string feature;  // a disco feature var; empty: nothing to advertise
  std::function<awaitable<void>(Session& session, const xml::Element& request,
                                xml::Element& bound)>
      run;
};

// Takes every stanza addressed to a domain a module serves (e.g. a MUC
// service at conference.example.org), on the shard that routes it.
using DomainHandler =
    std::function<void(xml::Element stanza, const xmpp::Jid& from, const xmpp::Jid& to)>;

}  // namespace tern::router
