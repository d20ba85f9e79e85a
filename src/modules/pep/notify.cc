// Who hears of a change to a PEP node (XEP-0163 §4), and the last item on
// coming online (§4.3.2 "send_last_published_item on_sub_and_presence").
//
// The audience is the account's own resources and its contacts with a
// presence subscription (from or both) that the node's access model
// admits, narrowed to the resources whose entity capabilities include
// "<node>+notify", plus explicit subscribers. Resources are learnt from the
// presence the account hears (caps.h); their caps features from the cache,
// filled by one disco#info query per unknown hash.
//
// The fan-out serialises the <event/> once; each recipient gets that text
// inside its own <message/> shell (one string copy, no element tree), and a
// local recipient gets it as bytes on its own shard.
#include <chrono>

#include "core/log.h"
#include "modules/pep/pep.h"
#include "modules/pubsub/access.h"
#include "modules/pubsub/deliver.h"
#include "xml/parse_element.h"
#include "xml/serializer.h"
#include "xmpp/datetime.h"
#include "xmpp/namespaces.h"

namespace tern::modules::pep {
namespace {

constexpr const char* kDiscoInfoNs = "http://jabber.org/protocol/disco#info";
constexpr std::string_view kCapsIdPrefix = "pepcaps-";

std::string bare_of(const std::string& jid) {
  auto slash = jid.find('/');
  return slash == std::string::npos ? jid : jid.substr(0, slash);
}

pubsub::Requester contact_facts(const storage::RosterItem& item, const Audience& audience) {
  pubsub::Requester who;
  who.subscription = item.subscription;
  who.groups = item.groups;
  for (const auto& a : audience.affiliations)
    if (a.jid == item.jid) who.affiliation = a.value;
  return who;
}

}  // namespace

void PepService::fan_out(const Event& event, const pubsub::NodeConfig& config,
                         const Audience& audience) {
  // Contacts the access model admits, by bare JID.
  std::set<std::string> admitted;
  for (const auto& item : audience.roster) {
    auto who = contact_facts(item, audience);
    if (pubsub::has_presence_subscription(who) && !pubsub::refuse_access(config, who))
      admitted.insert(item.jid);
  }
  const std::string wanted = event.node + "+notify";
  std::set<std::string> recipients;
  for (const auto& l : listeners_.of(event.account)) {
    const std::string bare = bare_of(l.jid);
    if (bare != event.account && !admitted.count(bare)) continue;
    auto features = l.caps_key.empty() ? nullptr : caps_.find(l.caps_key);
    if (features && features->count(wanted)) recipients.insert(l.jid);
  }
  for (const auto& s : audience.subscriptions)
    if (s.value == "subscribed") recipients.insert(s.jid);

  sent_.fetch_add(pubsub::deliver_event(host_, event.account, recipients, event.event_xml),
                  std::memory_order_relaxed);
}

void PepService::heard_presence(const xmpp::Jid& account, const xmpp::Jid& from,
                                const xml::Element& presence) {
  if (!from.is_full()) return;
  const std::string acct = account.bare_string();
  const std::string full = from.to_string();
  const auto type = presence.attr_or("type");
  if (type == "unavailable") {
    listeners_.unavailable(acct, full);
    return;
  }
  if (!type.empty()) return;  // probes, subscriptions, errors
  // Only accounts that are online keep a table (bounded memory); the next
  // login's probes fill it again.
  if (from.bare() != account && host_.sessions().sessions_of(account).empty()) return;
  auto caps = caps_of(presence);
  const std::string key = caps ? caps->key() : std::string();
  if (!listeners_.available(acct, full, key) || !caps) return;
  if (auto features = caps_.find(key)) {
    host_.spawn(send_last_items(shared_from_this(), acct, full, std::move(features)));
    return;
  }
  if (caps_.wait_for(key, acct, full)) query_caps(account, from, *caps);
}

void PepService::account_offline(const std::string& account) {
  listeners_.forget(account);
  photo_hashes_.forget(account);
}

void PepService::query_caps(const xmpp::Jid& account, const xmpp::Jid& target, const CapsRef& ref) {
  const std::string id = std::string(kCapsIdPrefix) + next_id();
  {
    std::lock_guard lock(queries_mutex_);
    // Bounded: a peer that never answers leaves at most this many behind.
    if (queries_.size() > 10000) queries_.clear();
    queries_[id] = CapsQuery{ref, target.to_string()};
  }
  xml::Element iq("iq", "jabber:client");
  iq.set_attr("from", account.domain());
  iq.set_attr("to", target.to_string());
  iq.set_attr("type", "get");
  iq.set_attr("id", id);
  iq.add_child("query", kDiscoInfoNs).set_attr("node", ref.node + "#" + ref.ver);
  host_.route(std::move(iq));
}

bool PepService::take_caps_reply(const xml::Element& iq) {
  const auto id = iq.attr_or("id");
  if (!id.starts_with(kCapsIdPrefix)) return false;
  CapsQuery q;
  {
    std::lock_guard lock(queries_mutex_);
    auto it = queries_.find(std::string(id));
    if (it == queries_.end()) return true;
    q = std::move(it->second);
    queries_.erase(it);
  }
  const std::string key = q.ref.key();
  const xml::Element* query = iq.child("query", kDiscoInfoNs);
  if (iq.attr_or("type") != "result" || !query || iq.attr_or("from") != q.target) {
    caps_.end_wait(key);
    return true;
  }
  if (!q.ref.hash.empty()) {
    // §5.4: cache only what matches the hash it claims.
    auto computed = caps_hash(q.ref.hash, verification_string(*query));
    if (!computed || *computed != q.ref.ver) {
      spdlog::info("pep: caps of {} do not match their hash {}", q.target, q.ref.ver);
      caps_.end_wait(key);
      return true;
    }
  }
  std::set<std::string> features;
  for (const auto* f : query->children())
    if (f->name() == "feature") features.emplace(f->attr_or("var"));
  caps_.put(key, std::move(features));
  auto known = caps_.find(key);
  for (auto& [account, listener] : caps_.end_wait(key))
    if (listeners_.caps_key(account, listener) == key)
      host_.spawn(send_last_items(shared_from_this(), account, listener, known));
  return true;
}

awaitable<void> send_last_items(std::shared_ptr<PepService> self, std::string account,
                                std::string listener, FeatureSet features) {
  struct Last {
    std::string node;
    storage::PubsubItemRecord item;
  };
  const std::string requester = bare_of(listener);
  auto& store = self->storage();
  auto op = self->blocking().run([&] {
    std::vector<Last> out;
    auto nodes = store.pubsub().nodes(account);
    if (nodes.empty()) return out;
    std::optional<storage::RosterItem> contact;
    if (requester != account) {
      const auto at = account.find('@');
      contact = store.roster().item({account.substr(0, at), account.substr(at + 1)}, requester);
      if (!contact) return out;
    }
    for (const auto& n : nodes) {
      if (!features->count(n.node + "+notify")) continue;
      auto config = pubsub::deserialize(n.config);
      if (!config || config->send_last == pubsub::SendLastItem::kNever) continue;
      if (contact) {
        pubsub::Requester who;
        who.subscription = contact->subscription;
        who.groups = contact->groups;
        for (const auto& a : store.pubsub().affiliations(account, n.node))
          if (a.jid == requester) who.affiliation = a.value;
        if (!pubsub::has_presence_subscription(who) || pubsub::refuse_access(*config, who)) continue;
      }
      for (auto& item : store.pubsub().items(account, n.node, {}, 1)) out.push_back({n.node, std::move(item)});
    }
    return out;
  });
  std::vector<Last> last;
  try {
    last = co_await std::move(op);
  } catch (const std::exception& e) {
    spdlog::error("pep: last items of {} for {}: {}", account, listener, e.what());
    co_return;
  }
  for (const auto& l : last) {
    auto payload = l.item.payload.empty() ? std::nullopt : xml::parse_element(l.item.payload, ns::kClient);
    xml::Element msg("message", "jabber:client");
    msg.set_attr("from", account);
    msg.set_attr("to", listener);
    msg.set_attr("type", "headline");
    msg.add_child(item_event(l.node, l.item.id, payload ? &*payload : nullptr));
    xmpp::add_delay(msg, account,
                    std::chrono::system_clock::time_point(std::chrono::milliseconds(l.item.published_at)));
    self->host().route(std::move(msg));
  }
}

}  // namespace tern::modules::pep
