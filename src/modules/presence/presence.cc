// RFC 6121 §3-4 subscriptions, presence broadcast, probes, directed presence.
// This file: the hooks and the module's plumbing; the protocol is in the
// facet files named in service.h.
#include "modules/presence/presence.h"

#include "core/log.h"
#include "core/shards.h"
#include "modules/options.h"
#include "modules/presence/service.h"
#include "xmpp/namespaces.h"

namespace tern::modules {
namespace presence {
namespace {

// Set while the module routes a stanza of its own, so that its pre_route
// handler does not take it for a client's outbound stanza.
thread_local bool t_routing_own = false;

unsigned current_shard() {
  int s = core::Shards::current();
  return s < 0 ? 0u : static_cast<unsigned>(s);
}

}  // namespace

xml::Element make_presence(const std::string& from, const std::string& to, const char* type) {
  xml::Element p("presence", ns::kClient);
  if (!from.empty()) p.set_attr("from", from);
  if (!to.empty()) p.set_attr("to", to);
  if (type && *type) p.set_attr("type", type);
  return p;
}

PresenceService::PresenceService(ModuleContext& ctx)
    : host_(ctx.host),
      storage_(ctx.storage),
      blocking_(ctx.blocking),
      rosters_(ctx.features.services.find<roster::Rosters>()) {
  // Presence without the roster module still keeps subscriptions, within
  // the roster module's default limit.
  if (!rosters_) rosters_ = std::make_shared<roster::Rosters>(ctx.host, ctx.storage, ctx.blocking, 1000);
}

void PresenceService::queue_next(const xmpp::Jid& sender, std::function<awaitable<void>()> work) {
  host_.queue_next(sender.bare_string(), std::move(work));
}

void PresenceService::queue_last(const xmpp::Jid& sender, std::function<awaitable<void>()> work) {
  host_.queue_last(sender.bare_string(), std::move(work));
}

void PresenceService::send(xml::Element stanza) {
  const bool outer = t_routing_own;
  t_routing_own = true;
  host_.route(std::move(stanza));
  t_routing_own = outer;
}

void PresenceService::send_copies(const xml::Element& stanza, std::span<const xmpp::Jid> recipients) {
  const bool outer = t_routing_own;
  t_routing_own = true;
  host_.route_copies(stanza, recipients);
  t_routing_own = outer;
}

core::Verdict PresenceService::on_pre_route(router::RoutedStanza& ev) {
  if (t_routing_own || ev.stanza.name() != "presence" || !ev.had_to) return core::Verdict::kPass;
  // Only what a client of ours sends: the stream stamps its full JID.
  if (!ev.from.is_full() || !ev.from.has_node() || !host_.is_local_domain(ev.from.domain()))
    return core::Verdict::kPass;
  const auto type = ev.stanza.attr_or("type");
  if (auto sub = sub_type_of(type)) {
    const xmpp::Jid contact = ev.to.bare();
    // One's own presence needs no subscription (RFC 6121 §3 is about
    // contacts); a request to oneself would make both ends one roster row.
    if (contact == ev.from.bare()) return core::Verdict::kHandled;
    // §3.1.2: stamped with the bare JID, addressed to the contact's bare JID.
    xml::Element stanza = ev.stanza;
    stanza.set_attr("from", ev.from.bare_string());
    stanza.set_attr("to", contact.to_string());
    queue_next(ev.from, [this, from = ev.from, contact, t = *sub, stanza = std::move(stanza)] {
      return outbound_subscription(from, contact, t, stanza);
    });
    return core::Verdict::kHandled;
  }
  if (type.empty() || type == "unavailable") {
    // §4.6: directed presence. Remembered so that the target hears when the
    // session goes away; subscribers among the targets are skipped then.
    auto session = host_.sessions().find(ev.from);
    if (session && session->shard() == current_shard() && ev.to.bare() != ev.from.bare()) {
      auto& directed = session->module_state().get<SessionPresence>().directed_to;
      if (type.empty()) {
        if (session->is_available()) directed.insert(ev.to.to_string());
      } else {
        directed.erase(ev.to.to_string());
      }
    }
  }
  return core::Verdict::kPass;
}

core::Verdict PresenceService::on_broadcast(router::RoutedStanza& ev) {
  if (ev.stanza.name() != "presence") return core::Verdict::kPass;
  auto session = host_.sessions().find(ev.from);
  if (!session || session->shard() != current_shard()) return core::Verdict::kHandled;
  auto& state = session->module_state().get<SessionPresence>();
  const auto type = ev.stanza.attr_or("type");
  if (type.empty()) {
    // No presence broadcast since the session began or last went
    // unavailable: this is initial presence (§4.2), else a change (§4.4).
    // (Not the stream's is_available(): a presence queued behind the
    // account's work in flight runs after the stream has marked it.)
    const bool initial = !state.has_last_presence();
    xml::Element p = ev.stanza;
    p.remove_attr("to");
    p.set_attr("from", ev.from.to_string());
    state.set_last_presence(p);
    queue_next(ev.from, [this, from = ev.from, p = std::move(p), initial] {
      return broadcast_available(from, p, initial);
    });
  } else if (type == "unavailable" && state.has_last_presence()) {
    // §4.5: to subscribers, own resources and directed-presence targets.
    std::set<std::string> directed = std::exchange(state.directed_to, {});
    state.forget_last_presence();
    xml::Element p = ev.stanza;
    p.remove_attr("to");
    p.set_attr("from", ev.from.to_string());
    queue_next(ev.from, [this, from = ev.from, p = std::move(p), directed = std::move(directed)] {
      return broadcast_unavailable(from, p, directed);
    });
  }
  // Probes, errors and subscription stanzas without 'to' have no addressee.
  return core::Verdict::kHandled;
}

core::Verdict PresenceService::on_to_bare(router::RoutedStanza& ev) {
  if (ev.stanza.name() != "presence") return core::Verdict::kPass;
  const auto type = ev.stanza.attr_or("type");
  // The work is queued under the sender: the contact's side of a
  // subscription is part of what the sender has in flight, done on the
  // sender's shard before its next stanza goes anywhere.
  if (auto sub = sub_type_of(type)) {
    // §3.1.3: inbound subscription stanzas are handled for the bare JID.
    xml::Element stanza = ev.stanza;
    stanza.set_attr("from", ev.from.bare_string());
    queue_next(ev.from, [this, user = ev.from.bare(), contact = ev.to.bare(), t = *sub,
                         stanza = std::move(stanza)] {
      return inbound_subscription(user, contact, t, stanza);
    });
    return core::Verdict::kHandled;
  }
  if (type == "probe") {
    queue_next(ev.from, [this, prober = ev.from, contact = ev.to.bare()] {
      return answer_probe(prober, contact);
    });
    return core::Verdict::kHandled;
  }
  // Available, unavailable and error presence: every available resource
  // gets it (the router's bare-JID rule, RFC 6121 §8.5.2.1.1).
  return core::Verdict::kPass;
}

void PresenceService::on_initial_presence(router::Session& session) {
  queue_next(session.jid(), [this, s = session.shared_from_this()] { return deliver_pending_requests(s); });
}

void PresenceService::on_session_ended(router::Session& session) {
  // §4.6 and §4.5.2: a session that ends while available is unavailable to
  // everyone who had its presence, lost connection or not.
  if (!session.is_available()) return;
  auto& state = session.module_state().get<SessionPresence>();
  std::set<std::string> directed = std::exchange(state.directed_to, {});
  state.forget_last_presence();
  xml::Element p = make_presence(session.jid().to_string(), "", "unavailable");
  // Last of what the session sent: behind its stanzas still queued.
  queue_last(session.jid(), [this, from = session.jid(), p = std::move(p), directed = std::move(directed)] {
    return broadcast_unavailable(from, p, directed);
  });
}

class PresenceModule : public Module {
 public:
  explicit PresenceModule(ModuleContext& ctx) : service(ctx) {}
  // Hooks go first: nothing may call into the service while it stops.
  // (Modules stop after the shards: queued work is dropped, never run.)
  ~PresenceModule() override { tokens.clear(); }
  PresenceService service;
};

}  // namespace presence

std::unique_ptr<Module> start_presence(ModuleContext& ctx) {
  read_no_options("presence", ctx.options);
  auto m = std::make_unique<presence::PresenceModule>(ctx);
  auto* s = &m->service;
  auto& hooks = ctx.hooks();
  m->tokens.push_back(hooks.pre_route.add([s](router::RoutedStanza& ev) { return s->on_pre_route(ev); }));
  m->tokens.push_back(
      hooks.presence_broadcast.add([s](router::RoutedStanza& ev) { return s->on_broadcast(ev); }));
  m->tokens.push_back(hooks.to_bare.add([s](router::RoutedStanza& ev) { return s->on_to_bare(ev); }));
  m->tokens.push_back(hooks.initial_presence.add([s](router::SessionEvent& ev) {
    s->on_initial_presence(ev.session);
    return core::Verdict::kPass;
  }));
  m->tokens.push_back(hooks.session_ended.add([s](router::SessionEvent& ev) {
    s->on_session_ended(ev.session);
    return core::Verdict::kPass;
  }));
  // RFC 6121 §3.4: subscription pre-approval.
  ctx.features.stream_features.push_back("<sub xmlns='urn:xmpp:features:pre-approval'/>");
  return m;
}

TERN_MODULE("presence", "RFC 6121 §3-4 subscriptions, presence broadcast, probes, directed presence", &start_presence, 20);

}  // namespace tern::modules
