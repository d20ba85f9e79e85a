// Presence broadcast (RFC 6121 §4.2 initial, §4.4 subsequent, §4.5
// unavailable), directed presence on session end (§4.6), and stored
// subscription requests delivered at login (§3.1.3).
#include <variant>

#include "core/log.h"
#include "modules/presence/service.h"
#include "modules/roster/item.h"
#include "xml/parse_element.h"
#include "xml/serializer.h"
#include "xmpp/datetime.h"
#include "xml/stream_parser.h"
#include "xmpp/namespaces.h"

namespace tern::modules::presence {
namespace {

storage::AccountKey key_of(const xmpp::Jid& jid) { return {jid.node(), jid.domain()}; }

}  // namespace

awaitable<void> PresenceService::broadcast_available(xmpp::Jid from, xml::Element presence,
                                                     bool initial) {
  // A login reads the roster afresh (it probes too); a later change uses
  // the subscribers kept since.
  roster::Rosters::Loaded roster;
  if (initial) {
    roster = co_await rosters_->load(from);
  } else {
    roster.subscribers = co_await rosters_->subscribers(from);
  }
  {
    // §4.2.2 / §4.4.2: to every contact subscribed to the user.
    send_copies(presence, *roster.subscribers);
    // … and to the user's other available resources, whose presence the
    // new resource learns in turn (§4.2.2).
    auto self = host_.sessions().find(from);
    for (auto& other : host_.sessions().sessions_of(from.bare())) {
      if (other->jid() == from || !other->is_available()) continue;
      xml::Element p = presence;
      p.set_attr("to", other->jid().to_string());
      host_.deliver(other, std::move(p));
      if (initial && self) {
        host_.on_shard_of(other, [this, self](router::Session& o) {
          const auto* state = o.module_state().find<SessionPresence>();
          auto p = state ? state->last_presence() : std::nullopt;
          if (!p) return;
          p->set_attr("from", o.jid().to_string());
          p->set_attr("to", self->jid().to_string());
          host_.deliver(self, std::move(*p));
        });
      }
    }
    if (!initial) co_return;
    // §4.2.2: probe every contact the user is subscribed to, from the bare JID.
    for (const auto& item : roster.items) {
      if (!roster::owner_sees_presence(item)) continue;
      send(make_presence(from.bare_string(), item.jid, "probe"));
    }
  }
}

awaitable<void> PresenceService::broadcast_unavailable(xmpp::Jid from, xml::Element presence,
                                                       std::set<std::string> directed) {
  // The account's last resource going away: its presence is what probes
  // get until it comes back (§4.3.2).
  const bool last = !has_available_session(from.bare(), &from);
  if (last) {
    auto kept = stamped_for_later(presence);
    co_await blocking_.run([&] { keep_last_unavailable(key_of(from), kept); });
  }
  const auto subscribers = co_await rosters_->subscribers(from);
  if (last) rosters_->release(from);
  {
    send_copies(presence, *subscribers);
    for (auto& other : host_.sessions().sessions_of(from.bare())) {
      if (other->jid() == from || !other->is_available()) continue;
      xml::Element p = presence;
      p.set_attr("to", other->jid().to_string());
      host_.deliver(other, std::move(p));
    }
    // §4.6.3: directed-presence targets that are not subscribers (those had
    // it through the broadcast already).
    std::vector<xmpp::Jid> recipients;
    for (const auto& target : directed) {
      auto jid = xmpp::Jid::parse(target);
      if (!jid) continue;
      if (!roster::is_subscriber(*subscribers, jid->bare())) recipients.push_back(std::move(*jid));
    }
    if (!recipients.empty()) send_copies(presence, recipients);
  }
}

awaitable<void> PresenceService::deliver_pending_requests(router::SessionPtr session) {
  const xmpp::Jid& jid = session->jid();
  const auto owner = key_of(jid);
  auto items = co_await blocking_.run([&] { return storage_.roster().items(owner); });
  std::vector<xml::Element> requests;
  for (const auto& item : items) {
    if (!item.pending_in) continue;
    std::optional<xml::Element> stanza;
    if (!item.pending_in_stanza.empty()) stanza = xml::parse_element(item.pending_in_stanza, ns::kClient);
    // A request stored without its stanza is still a request (§3.1.3).
    if (!stanza) stanza = make_presence(item.jid, jid.bare_string(), "subscribe");
    requests.push_back(std::move(*stanza));
  }
  for (const auto& r : requests) host_.deliver(session, r);
}

bool PresenceService::has_available_session(const xmpp::Jid& bare, const xmpp::Jid* except) const {
  for (const auto& s : host_.sessions().sessions_of(bare))
    if (s->is_available() && (!except || s->jid() != *except)) return true;
  return false;
}

std::string PresenceService::stamped_for_later(const xml::Element& presence) {
  xml::Element p = presence;
  p.remove_attr("to");
  p.remove_child("delay", xmpp::kDelayNs);  // only the server's own stamp counts
  const xmpp::Jid from = xmpp::Jid::parse(p.attr_or("from")).value_or(xmpp::Jid());
  xmpp::add_delay(p, from.domain(), std::chrono::system_clock::now());
  return xml::to_string(p, ns::kClient);
}

void PresenceService::keep_last_unavailable(const storage::AccountKey& owner, const std::string& xml) {
  try {
    // Not for an account just deleted (its sessions end after it is gone):
    // a later account of the same name must not inherit it.
    if (storage_.accounts().exists(owner)) storage_.documents().put(owner, kLastUnavailableKey, xml);
  } catch (const std::exception& e) {
    // Probes then get nothing, which §4.3.2 allows; the broadcast goes on.
    spdlog::error("presence: keeping the last presence of {}@{} failed: {}", owner.user,
                  owner.domain, e.what());
  }
}

void PresenceService::send_current_presence(const xmpp::Jid& owner, const xmpp::Jid& to) {
  for (auto& s : host_.sessions().sessions_of(owner.bare())) {
    if (!s->is_available()) continue;
    host_.on_shard_of(s, [this, to](router::Session& c) {
      const auto* state = c.module_state().find<SessionPresence>();
      auto p = state ? state->last_presence() : std::nullopt;
      if (!p) return;
      p->set_attr("from", c.jid().to_string());
      p->set_attr("to", to.to_string());
      send(std::move(*p));
    });
  }
}

void PresenceService::send_unavailable_from_all(const xmpp::Jid& owner, const xmpp::Jid& to) {
  for (auto& s : host_.sessions().sessions_of(owner.bare())) {
    if (!s->is_available()) continue;
    send(make_presence(s->jid().to_string(), to.to_string(), "unavailable"));
  }
}

}  // namespace tern::modules::presence
