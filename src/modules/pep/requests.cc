// The pubsub requests PEP answers (XEP-0060 §6-8 on an account's bare JID,
// XEP-0163). The account itself owns every node and is the only publisher;
// others read, subscribe and get notified as the node's access model lets
// them. Each request does its storage work in one blocking job, then
// answers, then (for changes) fans the event out.
#include <algorithm>
#include <variant>

#include "modules/pep/pep.h"
#include "modules/pep/vcard4.h"
#include "modules/pubsub/access.h"
#include "modules/pubsub/own_entries.h"
#include "xml/parse_element.h"
#include "xml/serializer.h"
#include "xmpp/namespaces.h"

namespace tern::modules::pep {
namespace {

using pubsub::Action;
using pubsub::NodeConfig;
using pubsub::Request;
using router::IqReply;
using router::IqRequest;
using xmpp::ErrorType;
using xmpp::StanzaCondition;
using xmpp::StanzaError;

StanzaError forbidden() { return StanzaError(StanzaCondition::kForbidden, ErrorType::kAuth); }
StanzaError no_node() { return StanzaError(StanzaCondition::kItemNotFound, "no such node"); }

storage::AccountKey key_of(const std::string& bare) {
  auto at = bare.find('@');
  return {bare.substr(0, at), bare.substr(at + 1)};
}

// A stored configuration that does not parse is a broken store (only this
// module writes it): a bug, answered with internal-server-error.
NodeConfig config_of(const storage::PubsubNodeRecord& rec) {
  auto config = pubsub::deserialize(rec.config);
  if (!config) throw std::runtime_error("stored configuration of node " + rec.node + " does not parse");
  return *config;
}

xml::Element pubsub_element(const char* ns = pubsub::kNs) { return xml::Element("pubsub", ns); }

// Facts about the requester that access checks need, read in a blocking job.
pubsub::Requester load_requester(storage::Storage& s, const std::string& account,
                                 const std::string& node, const std::string& requester) {
  pubsub::Requester who;
  who.is_owner = requester == account;
  if (who.is_owner) return who;
  if (auto item = s.roster().item(key_of(account), requester)) {
    who.subscription = item->subscription;
    who.groups = item->groups;
  }
  for (const auto& a : s.pubsub().affiliations(account, node))
    if (a.jid == requester) who.affiliation = a.value;
  return who;
}

Audience load_audience(storage::Storage& s, const std::string& account, const std::string& node) {
  Audience a;
  a.roster = s.roster().items(key_of(account));
  a.subscriptions = s.pubsub().subscriptions(account, node);
  a.affiliations = s.pubsub().affiliations(account, node);
  return a;
}

// What a blocking job found: an error for the requester, or the facts to
// answer and notify with.
struct Outcome {
  std::optional<StanzaError> error;
  NodeConfig config;
  Audience audience;
  std::vector<storage::PubsubItemRecord> items;
  bool created = false;
};

// The start of every request on an existing node: its configuration, or
// item-not-found. On the blocking pool.
Outcome open_node(storage::Storage& store, const std::string& account, const std::string& node) {
  Outcome out;
  if (auto rec = store.pubsub().node(account, node)) {
    out.config = config_of(*rec);
  } else {
    out.error = no_node();
  }
  return out;
}

}  // namespace

std::int64_t PepService::now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string PepService::next_id() {
  // Unique per node without a table: the start time and a counter.
  return std::to_string(started_ms_) + "-" + std::to_string(ids_.fetch_add(1) + 1);
}

xml::Element item_event(const std::string& node, const std::string& id, const xml::Element* payload) {
  xml::Element event("event", pubsub::kEventNs);
  auto& items = event.add_child("items");
  items.set_attr("node", node);
  auto& item = items.add_child("item");
  item.set_attr("id", id);
  if (payload) item.add_child(*payload);
  return event;
}

xml::Element retract_event(const std::string& node, const std::string& id) {
  xml::Element event("event", pubsub::kEventNs);
  auto& items = event.add_child("items");
  items.set_attr("node", node);
  items.add_child("retract").set_attr("id", id);
  return event;
}

xml::Element purge_event(const std::string& node) {
  xml::Element event("event", pubsub::kEventNs);
  event.add_child("purge").set_attr("node", node);
  return event;
}

xml::Element delete_event(const std::string& node) {
  xml::Element event("event", pubsub::kEventNs);
  event.add_child("delete").set_attr("node", node);
  return event;
}

namespace {

// XEP-0060 §7.1: publish, creating the node when missing (with the
// publish-options as its configuration, §7.1.5) or checking the options
// against it as preconditions.
awaitable<IqReply> publish(PepService& pep, const std::string& account, bool owner, Request r) {
  if (!owner) co_return forbidden();
  auto& item = r.items.front();
  if (!item.payload) co_return pubsub::pubsub_error(StanzaCondition::kBadRequest, "item-required");
  const std::string payload_xml = xml::to_string(*item.payload, "");
  if (payload_xml.size() > pep.options().max_payload_bytes)
    co_return pubsub::pubsub_error(StanzaCondition::kNotAcceptable, "payload-too-big");
  if (r.form && !r.form->form_type().empty() &&
      r.form->form_type() != pubsub::kPublishOptionsFormType)
    co_return StanzaError(StanzaCondition::kBadRequest, "publish-options need the publish-options FORM_TYPE");
  const std::string id = item.id.empty() ? pep.next_id() : item.id;
  const auto& opts = pep.options();
  auto& store = pep.storage();
  auto op = pep.blocking().run([&] {
    Outcome out;
    auto& ps = store.pubsub();
    auto rec = ps.node(account, r.node);
    if (!rec) {
      out.config = pubsub::default_config(true);
      if (r.form && pubsub::apply_form(out.config, *r.form, opts.max_items)) {
        out.error = pubsub::pubsub_error(StanzaCondition::kConflict, "precondition-not-met",
                                         "publish-options this server cannot meet");
        return out;
      }
      if (ps.nodes(account).size() >= opts.max_nodes) {
        out.error = pubsub::pubsub_error(StanzaCondition::kPolicyViolation, "max-nodes-exceeded");
        return out;
      }
      ps.create_node({account, r.node, pubsub::serialize(out.config)});
      out.created = true;
    } else {
      out.config = config_of(*rec);
      if (r.form && !pubsub::meets_preconditions(out.config, *r.form, opts.max_items)) {
        out.error = pubsub::pubsub_error(StanzaCondition::kConflict, "precondition-not-met");
        return out;
      }
    }
    // Items of a node that does not persist them are kept one deep, so
    // that the last one still reaches contacts that come online.
    const std::size_t keep =
        out.config.persist_items ? pubsub::effective_max_items(out.config, opts.max_items) : 1;
    ps.publish(account, r.node, {id, account, payload_xml, PepService::now_ms()}, keep);
    out.audience = load_audience(store, account, r.node);
    return out;
  });
  Outcome out = co_await std::move(op);
  if (out.error) co_return *out.error;
  auto reply = pubsub_element();
  auto& p = reply.add_child("publish");
  p.set_attr("node", r.node);
  p.add_child("item").set_attr("id", id);
  if (out.config.deliver_notifications) {
    const xml::Element* payload = out.config.deliver_payloads ? &*item.payload : nullptr;
    pep.fan_out({account, r.node, xml::to_string(item_event(r.node, id, payload), "")}, out.config,
                out.audience);
  }
  // Bookmarks also live in private storage and the other bookmarks node:
  // written before the result, so the client sees them everywhere at once.
  if (auto source = bookmark_source(r.node)) {
    auto sync = sync_bookmarks(pep.shared_from_this(), account, *source);
    co_await std::move(sync);
  }
  if (r.node == avatar::kMetadataNode) {
    auto sync = sync_avatar_from_pep(pep.shared_from_this(), account);
    co_await std::move(sync);
    auto announce = photo_may_have_changed(pep.shared_from_this(), account);
    co_await std::move(announce);
  }
  if (r.node == vcard4::kNode && pep.options().with_vcard) {
    auto sync = sync_vcard_temp_from_vcard4(pep.shared_from_this(), account);
    co_await std::move(sync);
  }
  co_return reply;
}

// §7.2: retract items, notifying when asked to.
awaitable<IqReply> retract(PepService& pep, const std::string& account, bool owner, Request r) {
  if (!owner) co_return forbidden();
  auto& store = pep.storage();
  auto op = pep.blocking().run([&] {
    Outcome out = open_node(store, account, r.node);
    if (out.error) return out;
    bool any = false;
    for (const auto& item : r.items) any = store.pubsub().retract(account, r.node, item.id) || any;
    if (!any) out.error = StanzaError(StanzaCondition::kItemNotFound, "no such item");
    else if (r.notify) out.audience = load_audience(store, account, r.node);
    return out;
  });
  Outcome out = co_await std::move(op);
  if (out.error) co_return *out.error;
  if (r.notify)
    for (const auto& item : r.items)
      pep.fan_out({account, r.node, xml::to_string(retract_event(r.node, item.id), "")}, out.config,
                  out.audience);
  if (auto source = bookmark_source(r.node)) {
    auto sync = sync_bookmarks(pep.shared_from_this(), account, *source);
    co_await std::move(sync);
  }
  co_return IqReply::result();
}

// RSM (XEP-0059) over the items, newest first: a page after or before an
// item id, `max` long.
xml::Element page_items(const std::vector<storage::PubsubItemRecord>& all, const pubsub::Rsm& rsm,
                        std::vector<const storage::PubsubItemRecord*>& page) {
  std::size_t begin = 0, end = all.size();
  auto index_of = [&](const std::string& id) {
    for (std::size_t i = 0; i < all.size(); ++i)
      if (all[i].id == id) return i;
    return all.size();
  };
  const std::size_t max = rsm.max.value_or(all.size());
  if (rsm.after) {
    begin = std::min(all.size(), index_of(*rsm.after) + 1);
    end = std::min(all.size(), begin + max);
  } else if (rsm.before) {
    end = rsm.before->empty() ? all.size() : index_of(*rsm.before);
    begin = end > max ? end - max : 0;
  } else {
    end = std::min(all.size(), max);
  }
  for (std::size_t i = begin; i < end; ++i) page.push_back(&all[i]);
  xml::Element set("set", pubsub::kRsmNs);
  if (!page.empty()) {
    auto& first = set.add_child("first");
    first.set_attr("index", std::to_string(begin));
    first.add_text(page.front()->id);
    set.add_child("last").add_text(page.back()->id);
  }
  set.add_child("count").add_text(std::to_string(all.size()));
  return set;
}

// §6.5: retrieve items (all, the newest max_items, by id, or a page).
awaitable<IqReply> items(PepService& pep, const std::string& account, const std::string& requester,
                         Request r) {
  auto& store = pep.storage();
  const std::size_t limit = r.max_items && !r.rsm ? *r.max_items : 0;
  std::vector<std::string> ids;
  for (const auto& i : r.items) ids.push_back(i.id);
  auto op = pep.blocking().run([&] {
    Outcome out = open_node(store, account, r.node);
    if (out.error) return out;
    out.error = pubsub::refuse_access(out.config, load_requester(store, account, r.node, requester));
    if (out.error) return out;
    out.items = store.pubsub().items(account, r.node, ids, limit);
    return out;
  });
  Outcome out = co_await std::move(op);
  if (out.error) co_return *out.error;
  auto reply = pubsub_element();
  auto& list = reply.add_child("items");
  list.set_attr("node", r.node);
  std::vector<const storage::PubsubItemRecord*> page;
  std::optional<xml::Element> set;
  if (r.rsm) {
    set = page_items(out.items, *r.rsm, page);
  } else {
    for (const auto& i : out.items) page.push_back(&i);
  }
  for (const auto* i : page) {
    auto& item = list.add_child("item");
    item.set_attr("id", i->id);
    if (i->payload.empty()) continue;
    auto payload = xml::parse_element(i->payload, ns::kClient);
    if (!payload) throw std::runtime_error("stored item " + i->id + " does not parse");
    item.add_child(std::move(*payload));
  }
  if (set) reply.add_child(std::move(*set));
  co_return reply;
}

// §8.1: create a node, instant (no name given) or named, with an optional
// configuration.
awaitable<IqReply> create(PepService& pep, const std::string& account, bool owner, Request r) {
  if (!owner) co_return forbidden();
  const bool instant = r.node.empty();
  if (instant) r.node = pep.next_id();
  NodeConfig config = pubsub::default_config(true);
  if (r.form && pubsub::apply_form(config, *r.form, pep.options().max_items))
    co_return StanzaError(StanzaCondition::kNotAcceptable, "unsupported configuration");
  auto& store = pep.storage();
  const std::size_t max_nodes = pep.options().max_nodes;
  auto op = pep.blocking().run([&] {
    Outcome out;
    if (store.pubsub().nodes(account).size() >= max_nodes)
      out.error = pubsub::pubsub_error(StanzaCondition::kPolicyViolation, "max-nodes-exceeded");
    else if (!store.pubsub().create_node({account, r.node, pubsub::serialize(config)}))
      out.error = StanzaError(StanzaCondition::kConflict, "the node exists");
    return out;
  });
  Outcome out = co_await std::move(op);
  if (out.error) co_return *out.error;
  if (!instant) co_return IqReply::result();
  auto reply = pubsub_element();
  reply.add_child("create").set_attr("node", r.node);
  co_return reply;
}

// §8.2: read or change a node's configuration.
awaitable<IqReply> configure(PepService& pep, const std::string& account, bool owner, Request r) {
  if (!owner) co_return forbidden();
  auto& store = pep.storage();
  const bool is_set = r.action == Action::kSetConfig;
  if (is_set && r.form->type == "cancel") co_return IqReply::result();
  const std::size_t limit = pep.options().max_items;
  auto op = pep.blocking().run([&] {
    Outcome out = open_node(store, account, r.node);
    if (out.error) return out;
    if (!is_set) return out;
    if (pubsub::apply_form(out.config, *r.form, limit)) {
      out.error = StanzaError(StanzaCondition::kNotAcceptable, "unsupported configuration");
      return out;
    }
    store.pubsub().set_config(account, r.node, pubsub::serialize(out.config));
    return out;
  });
  Outcome out = co_await std::move(op);
  if (out.error) co_return *out.error;
  if (is_set) co_return IqReply::result();
  auto reply = pubsub_element(pubsub::kOwnerNs);
  auto& c = reply.add_child("configure");
  c.set_attr("node", r.node);
  c.add_child(adhoc::to_element(pubsub::to_form(out.config)));
  co_return reply;
}

// §8.4, §8.5: delete a node or purge its items, telling its audience.
awaitable<IqReply> delete_or_purge(PepService& pep, const std::string& account, bool owner,
                                   Request r) {
  if (!owner) co_return forbidden();
  auto& store = pep.storage();
  const bool is_delete = r.action == Action::kDelete;
  auto op = pep.blocking().run([&] {
    Outcome out = open_node(store, account, r.node);
    if (out.error) return out;
    out.audience = load_audience(store, account, r.node);
    if (is_delete) store.pubsub().delete_node(account, r.node);
    else store.pubsub().purge(account, r.node);
    return out;
  });
  Outcome out = co_await std::move(op);
  if (out.error) co_return *out.error;
  if (is_delete && out.config.notify_delete)
    pep.fan_out({account, r.node, xml::to_string(delete_event(r.node), "")}, out.config, out.audience);
  if (!is_delete && out.config.notify_retract)
    pep.fan_out({account, r.node, xml::to_string(purge_event(r.node), "")}, out.config, out.audience);
  co_return IqReply::result();
}

// §6.1 / §6.2: an explicit subscription, for clients that ask for one
// rather than relying on +notify.
awaitable<IqReply> subscribe(PepService& pep, const std::string& account,
                             const xmpp::Jid& from, Request r) {
  auto jid = xmpp::Jid::parse(r.jid);
  if (!jid || jid->bare() != from.bare())
    co_return pubsub::pubsub_error(StanzaCondition::kBadRequest, "invalid-jid");
  const std::string requester = from.bare_string();
  const std::string subscriber = jid->to_string();
  const bool is_subscribe = r.action == Action::kSubscribe;
  auto& store = pep.storage();
  auto op = pep.blocking().run([&] {
    Outcome out = open_node(store, account, r.node);
    if (out.error) return out;
    if (is_subscribe) {
      out.error = pubsub::refuse_access(out.config, load_requester(store, account, r.node, requester));
      if (out.error) return out;
      store.pubsub().set_subscription(account, r.node, subscriber, "subscribed");
      if (out.config.send_last != pubsub::SendLastItem::kNever)
        out.items = store.pubsub().items(account, r.node, {}, 1);
      return out;
    }
    bool found = false;
    for (const auto& s : store.pubsub().subscriptions(account, r.node)) found = found || s.jid == subscriber;
    if (!found) {
      out.error = pubsub::pubsub_error(StanzaCondition::kUnexpectedRequest, "not-subscribed");
      return out;
    }
    store.pubsub().set_subscription(account, r.node, subscriber, "none");
    return out;
  });
  Outcome out = co_await std::move(op);
  if (out.error) co_return *out.error;
  if (!is_subscribe) co_return IqReply::result();
  auto reply = pubsub_element();
  auto& s = reply.add_child("subscription");
  s.set_attr("node", r.node);
  s.set_attr("jid", subscriber);
  s.set_attr("subscription", "subscribed");
  // §6.1.7: the last item goes to a new subscriber after the result.
  for (const auto& i : out.items) {
    auto payload = xml::parse_element(i.payload, ns::kClient);
    xml::Element msg("message", "jabber:client");
    msg.set_attr("from", account);
    msg.set_attr("to", subscriber);
    msg.set_attr("type", "headline");
    msg.add_child(item_event(r.node, i.id, payload ? &*payload : nullptr));
    pep.host().route(std::move(msg));
  }
  co_return reply;
}

// §5.6 / §5.7: the requester's own subscriptions and affiliations.
awaitable<IqReply> own_entries(PepService& pep, const std::string& account, xmpp::Jid requester,
                               Request r) {
  const bool subs = r.action == Action::kSubscriptions;
  const bool owner = requester.bare_string() == account;
  auto op = pep.blocking().run([&] {
    return pubsub::read_own_entries(pep.storage().pubsub(), account, requester, subs, owner, r.node);
  });
  auto found = co_await std::move(op);
  co_return pubsub::own_entries_result(subs, found);
}

bool is_affiliation(std::string_view a) {
  return a == "publisher" || a == "member" || a == "outcast" || a == "none" || a == "publish-only";
}
bool is_subscription_state(std::string_view s) { return s == "subscribed" || s == "none"; }

// §8.8 / §8.9: the owner reads or changes who is subscribed or affiliated
// (affiliation "member" is how a whitelist node lets someone in).
awaitable<IqReply> node_entries(PepService& pep, const std::string& account, bool owner, Request r) {
  if (!owner) co_return forbidden();
  const bool subs = r.action == Action::kGetNodeSubscriptions || r.action == Action::kSetNodeSubscriptions;
  const bool is_set = r.action == Action::kSetNodeSubscriptions || r.action == Action::kSetNodeAffiliations;
  for (auto& [jid, value] : r.changes) {
    auto parsed = xmpp::Jid::parse(jid);
    if (!parsed || (subs ? !is_subscription_state(value) : !is_affiliation(value)))
      co_return StanzaError(StanzaCondition::kBadRequest, "bad entry for " + jid);
    // Affiliations are per bare JID; the owner's own stays as it is.
    if (!subs) jid = parsed->bare_string();
    if (!subs && jid == account) co_return StanzaError(StanzaCondition::kNotAcceptable, "the owner stays owner");
  }
  auto& store = pep.storage();
  struct Found {
    bool exists = false;
    std::vector<storage::PubsubEntry> entries;
  };
  auto op = pep.blocking().run([&] {
    Found f;
    if (!store.pubsub().node(account, r.node)) return f;
    f.exists = true;
    auto& ps = store.pubsub();
    for (const auto& [jid, value] : r.changes) {
      if (subs) ps.set_subscription(account, r.node, jid, value);
      else ps.set_affiliation(account, r.node, jid, value);
    }
    if (!is_set) f.entries = subs ? ps.subscriptions(account, r.node) : ps.affiliations(account, r.node);
    return f;
  });
  Found f = co_await std::move(op);
  if (!f.exists) co_return no_node();
  if (is_set) co_return IqReply::result();
  auto reply = pubsub_element(pubsub::kOwnerNs);
  auto& list = reply.add_child(subs ? "subscriptions" : "affiliations");
  list.set_attr("node", r.node);
  if (!subs) {
    auto& self = list.add_child("affiliation");
    self.set_attr("jid", account);
    self.set_attr("affiliation", "owner");
  }
  for (const auto& e : f.entries) {
    auto& el = list.add_child(subs ? "subscription" : "affiliation");
    el.set_attr("jid", e.jid);
    el.set_attr(subs ? "subscription" : "affiliation", e.value);
  }
  co_return reply;
}

}  // namespace

awaitable<IqReply> PepService::handle(const IqRequest& req) {
  auto parsed = pubsub::parse_request(req.payload(), req.type == router::IqType::kSet);
  if (auto* err = std::get_if<StanzaError>(&parsed)) co_return *err;
  Request r = std::move(std::get<Request>(parsed));
  const std::string account = req.to.bare_string();
  const std::string requester = req.from.bare_string();
  const bool owner = requester == account;
  // Each branch builds its awaitable first and awaits it below (GCC 12
  // mishandles co_await on a call with non-trivial arguments).
  std::optional<awaitable<IqReply>> op;
  switch (r.action) {
    case Action::kPublish: op.emplace(publish(*this, account, owner, std::move(r))); break;
    case Action::kRetract: op.emplace(retract(*this, account, owner, std::move(r))); break;
    case Action::kItems: op.emplace(items(*this, account, requester, std::move(r))); break;
    case Action::kCreate: op.emplace(create(*this, account, owner, std::move(r))); break;
    case Action::kGetConfig:
    case Action::kSetConfig: op.emplace(configure(*this, account, owner, std::move(r))); break;
    case Action::kDefault: {
      auto reply = pubsub_element(pubsub::kOwnerNs);
      reply.add_child("default").add_child(
          adhoc::to_element(pubsub::to_form(pubsub::default_config(true))));
      co_return reply;
    }
    case Action::kDelete:
    case Action::kPurge: op.emplace(delete_or_purge(*this, account, owner, std::move(r))); break;
    case Action::kSubscribe:
    case Action::kUnsubscribe: op.emplace(subscribe(*this, account, req.from, std::move(r))); break;
    case Action::kSubscriptions:
    case Action::kAffiliations:
      op.emplace(own_entries(*this, account, req.from, std::move(r)));
      break;
    case Action::kGetOptions:
    case Action::kSetOptions: co_return pubsub::unsupported("subscription-options");
    case Action::kGetNodeSubscriptions:
    case Action::kSetNodeSubscriptions:
    case Action::kGetNodeAffiliations:
    case Action::kSetNodeAffiliations:
      op.emplace(node_entries(*this, account, owner, std::move(r)));
      break;
  }
  if (op) co_return co_await std::move(*op);
  co_return StanzaError(StanzaCondition::kFeatureNotImplemented);
}

}  // namespace tern::modules::pep
