// The requests of the pubsub service (XEP-0060 §5-8). Who may do what
// follows the node's affiliations (§4.1): owners configure, purge, delete
// and manage; owners and publishers publish and retract (or anyone, or
// subscribers, as publish_model says); the access model decides who reads
// and subscribes; outcasts do nothing. Server admins own every node.
#include "modules/pubsub/service.h"

#include <map>
#include <variant>

#include "core/log.h"
#include "modules/options.h"
#include "modules/pubsub/access.h"
#include "modules/pubsub/deliver.h"
#include "modules/pubsub/own_entries.h"
#include "xml/parse_element.h"
#include "xml/serializer.h"
#include "xmpp/namespaces.h"

namespace tern::modules::pubsub {
namespace {

using router::IqReply;
using router::IqRequest;
using xmpp::ErrorType;
using xmpp::StanzaCondition;
using xmpp::StanzaError;

constexpr const char* kInfoNs = "http://jabber.org/protocol/disco#info";
constexpr const char* kItemsNs = "http://jabber.org/protocol/disco#items";

constexpr const char* kServiceFeatures[] = {
    "http://jabber.org/protocol/pubsub",
    "http://jabber.org/protocol/pubsub#access-open",
    "http://jabber.org/protocol/pubsub#access-whitelist",
    "http://jabber.org/protocol/pubsub#config-node",
    "http://jabber.org/protocol/pubsub#create-and-configure",
    "http://jabber.org/protocol/pubsub#create-nodes",
    "http://jabber.org/protocol/pubsub#delete-items",
    "http://jabber.org/protocol/pubsub#delete-nodes",
    "http://jabber.org/protocol/pubsub#instant-nodes",
    "http://jabber.org/protocol/pubsub#item-ids",
    "http://jabber.org/protocol/pubsub#last-published",
    "http://jabber.org/protocol/pubsub#manage-subscriptions",
    "http://jabber.org/protocol/pubsub#modify-affiliations",
    "http://jabber.org/protocol/pubsub#persistent-items",
    "http://jabber.org/protocol/pubsub#publish",
    "http://jabber.org/protocol/pubsub#publish-options",
    "http://jabber.org/protocol/pubsub#purge-nodes",
    "http://jabber.org/protocol/pubsub#retract-items",
    "http://jabber.org/protocol/pubsub#retrieve-affiliations",
    "http://jabber.org/protocol/pubsub#retrieve-default",
    "http://jabber.org/protocol/pubsub#retrieve-items",
    "http://jabber.org/protocol/pubsub#retrieve-subscriptions",
    "http://jabber.org/protocol/pubsub#subscribe",
    "http://jabber.org/protocol/pubsub#subscription-options",
};

StanzaError forbidden() { return StanzaError(StanzaCondition::kForbidden, ErrorType::kAuth); }
StanzaError no_node() { return StanzaError(StanzaCondition::kItemNotFound, "no such node"); }

NodeConfig config_of(const storage::PubsubNodeRecord& rec) {
  auto config = deserialize(rec.config);
  if (!config) throw std::runtime_error("stored configuration of node " + rec.node + " does not parse");
  return *config;
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The service keeps open and whitelist nodes only (presence and roster
// need an account's roster, which a service has not).
bool is_service_model(AccessModel m) { return m == AccessModel::kOpen || m == AccessModel::kWhitelist; }

// What one blocking job learnt about a node and the requester.
struct Facts {
  bool exists = false;
  NodeConfig config;
  std::string affiliation = "none";  // the requester's (bare JID)
  bool subscribed = false;           // the requester's full or bare JID
  std::vector<Subscriber> subscribers;
  // The subscription request names (subscribe, options), if it has one.
  std::optional<SubscriptionOptions> subscription;
  std::vector<storage::PubsubItemRecord> items;
  std::optional<StanzaError> error;
};

Facts load(storage::PubsubStore& ps, const std::string& svc, const std::string& node,
           const xmpp::Jid& requester, bool admin, const std::string& subscriber = {}) {
  Facts f;
  auto rec = ps.node(svc, node);
  if (!rec) {
    f.error = no_node();
    return f;
  }
  f.exists = true;
  f.config = config_of(*rec);
  const std::string bare = requester.bare_string();
  for (const auto& a : ps.affiliations(svc, node))
    if (a.jid == bare) f.affiliation = a.value;
  if (admin) f.affiliation = "owner";
  for (const auto& s : ps.subscriptions(svc, node)) {
    if (s.value != "subscribed") continue;
    f.subscribers.push_back({s.jid, deserialize_options(s.options)});
    if (s.jid == bare || s.jid == requester.to_string()) f.subscribed = true;
    if (s.jid == subscriber) f.subscription = f.subscribers.back().options;
  }
  return f;
}

bool is_owner(const Facts& f) { return f.affiliation == "owner"; }

bool may_publish(const Facts& f) {
  if (f.affiliation == "outcast") return false;
  if (is_owner(f) || f.affiliation == "publisher" || f.affiliation == "publish-only") return true;
  if (f.config.publish_model == PublishModel::kOpen) return true;
  return f.config.publish_model == PublishModel::kSubscribers && f.subscribed;
}

std::optional<StanzaError> refuse_read(const Facts& f) {
  Requester who;
  who.is_owner = is_owner(f);
  who.affiliation = f.affiliation;
  return refuse_access(f.config, who);
}

xml::Element pubsub_element(const char* ns = kNs) { return xml::Element("pubsub", ns); }

// <items/> in `ns`: pubsub for a result, pubsub#event for a notification.
xml::Element items_element(const std::string& node, const std::vector<storage::PubsubItemRecord>& items,
                           const char* ns = kNs) {
  xml::Element list("items", ns);
  list.set_attr("node", node);
  for (const auto& i : items) {
    auto& item = list.add_child("item");
    item.set_attr("id", i.id);
    if (i.payload.empty()) continue;
    auto payload = xml::parse_element(i.payload, ns::kClient);
    if (!payload) throw std::runtime_error("stored item " + i.id + " does not parse");
    item.add_child(std::move(*payload));
  }
  return list;
}

xml::Element event_with(const char* child, const std::string& node) {
  xml::Element event("event", kEventNs);
  event.add_child(child).set_attr("node", node);
  return event;
}

// The <body/> of a notification for subscribers that asked for one
// (pubsub#include_body): a line a client without pubsub can show.
std::string body_for(const std::string& svc, const std::string& node, std::string_view what) {
  return std::string(what) + " on node " + node + " of " + svc;
}

// Runs after the current request has answered: the last item follows the
// subscription result (§6.1.7).
awaitable<void> deliver_later(Host host, std::string svc, std::string to, std::string event_xml) {
  deliver_event(host, svc, {to}, event_xml);
  co_return;
}

}  // namespace

std::string PubsubService::next_id() {
  return std::to_string(now_ms()) + "-" + std::to_string(ids_.fetch_add(1) + 1);
}

awaitable<IqReply> PubsubService::handle(const IqRequest& req) {
  auto parsed = parse_request(req.payload(), req.type == router::IqType::kSet);
  if (auto* err = std::get_if<StanzaError>(&parsed)) co_return *err;
  Request r = std::move(std::get<Request>(parsed));
  const std::string svc = req.to.domain();
  const xmpp::Jid& from = req.from;
  const bool admin = is_admin(from.bare_string());
  auto& ps = storage_.pubsub();
  const auto& opts = opts_;

  switch (r.action) {
    case Action::kCreate: {
      if (!host_.is_local_domain(from.domain()) && !admin) co_return forbidden();
      const bool instant = r.node.empty();
      if (instant) r.node = next_id();
      NodeConfig config = default_config(false);
      if (r.form && (apply_form(config, *r.form, opts.max_items) || !is_service_model(config.access_model)))
        co_return StanzaError(StanzaCondition::kNotAcceptable, "unsupported configuration");
      auto op = blocking_.run([&] {
        std::optional<StanzaError> err;
        if (ps.nodes(svc).size() >= opts.max_nodes)
          err = pubsub_error(StanzaCondition::kPolicyViolation, "max-nodes-exceeded");
        else if (!ps.create_node({svc, r.node, serialize(config)}))
          err = StanzaError(StanzaCondition::kConflict, "the node exists");
        else
          ps.set_affiliation(svc, r.node, from.bare_string(), "owner");
        return err;
      });
      auto err = co_await std::move(op);
      if (err) co_return *err;
      if (!instant) co_return IqReply::result();
      auto reply = pubsub_element();
      reply.add_child("create").set_attr("node", r.node);
      co_return reply;
    }
    case Action::kPublish: {
      auto& item = r.items.front();
      const std::string payload_xml = item.payload ? xml::to_string(*item.payload, "") : std::string();
      if (payload_xml.size() > opts.max_payload_bytes)
        co_return pubsub_error(StanzaCondition::kNotAcceptable, "payload-too-big");
      const std::string id = item.id.empty() ? next_id() : item.id;
      auto op = blocking_.run([&] {
        Facts f = load(ps, svc, r.node, from, admin);
        if (f.error) return f;
        if (!may_publish(f)) {
          f.error = forbidden();
        } else if (r.form && !meets_preconditions(f.config, *r.form, opts.max_items)) {
          f.error = pubsub_error(StanzaCondition::kConflict, "precondition-not-met");
        } else {
          const std::size_t keep = f.config.persist_items ? effective_max_items(f.config, opts.max_items) : 1;
          ps.publish(svc, r.node, {id, from.bare_string(), payload_xml, now_ms()}, keep);
        }
        return f;
      });
      Facts f = co_await std::move(op);
      if (f.error) co_return *f.error;
      auto reply = pubsub_element();
      auto& p = reply.add_child("publish");
      p.set_attr("node", r.node);
      p.add_child("item").set_attr("id", id);
      if (f.config.deliver_notifications) {
        xml::Element event("event", kEventNs);
        auto& items = event.add_child("items");
        items.set_attr("node", r.node);
        auto& it = items.add_child("item");
        it.set_attr("id", id);
        if (item.payload && f.config.deliver_payloads) it.add_child(*item.payload);
        deliver_to_subscribers(host_, svc, f.subscribers, xml::to_string(event, ""),
                               body_for(svc, r.node, "New item " + id));
      }
      co_return reply;
    }
    case Action::kRetract: {
      auto op = blocking_.run([&] {
        Facts f = load(ps, svc, r.node, from, admin);
        if (f.error) return f;
        if (!is_owner(f) && f.affiliation != "publisher") {
          f.error = forbidden();
          return f;
        }
        bool any = false;
        for (const auto& i : r.items) any = ps.retract(svc, r.node, i.id) || any;
        if (!any) f.error = StanzaError(StanzaCondition::kItemNotFound, "no such item");
        return f;
      });
      Facts f = co_await std::move(op);
      if (f.error) co_return *f.error;
      if (r.notify || f.config.notify_retract) {
        xml::Element event("event", kEventNs);
        auto& items = event.add_child("items");
        items.set_attr("node", r.node);
        for (const auto& i : r.items) items.add_child("retract").set_attr("id", i.id);
        deliver_to_subscribers(host_, svc, f.subscribers, xml::to_string(event, ""),
                               body_for(svc, r.node, "Items retracted"));
      }
      co_return IqReply::result();
    }
    case Action::kItems: {
      std::vector<std::string> ids;
      for (const auto& i : r.items) ids.push_back(i.id);
      const std::size_t limit = r.max_items.value_or(0);
      auto op = blocking_.run([&] {
        Facts f = load(ps, svc, r.node, from, admin);
        if (f.error) return f;
        f.error = refuse_read(f);
        if (!f.error) f.items = ps.items(svc, r.node, ids, limit);
        return f;
      });
      Facts f = co_await std::move(op);
      if (f.error) co_return *f.error;
      auto reply = pubsub_element();
      reply.add_child(items_element(r.node, f.items));
      co_return reply;
    }
    case Action::kSubscribe:
    case Action::kUnsubscribe: {
      auto jid = xmpp::Jid::parse(r.jid);
      if (!jid || jid->bare() != from.bare())
        co_return pubsub_error(StanzaCondition::kBadRequest, "invalid-jid");
      const bool subscribe = r.action == Action::kSubscribe;
      const std::string subscriber = jid->to_string();
      // §6.3.7: options submitted with the subscription.
      std::optional<SubscriptionOptions> options;
      if (subscribe && r.form) {
        options.emplace();
        if (apply_form(*options, *r.form))
          co_return pubsub_error(StanzaCondition::kBadRequest, "invalid-options");
      }
      auto op = blocking_.run([&] {
        Facts f = load(ps, svc, r.node, from, admin, subscriber);
        if (f.error) return f;
        if (subscribe) {
          f.error = refuse_read(f);
          if (f.error) return f;
          ps.set_subscription(svc, r.node, subscriber, "subscribed");
          if (options) ps.set_subscription_options(svc, r.node, subscriber, serialize(*options));
          if (f.config.send_last != SendLastItem::kNever) f.items = ps.items(svc, r.node, {}, 1);
          return f;
        }
        bool found = false;
        for (const auto& s : ps.subscriptions(svc, r.node)) found = found || s.jid == subscriber;
        if (!found) f.error = pubsub_error(StanzaCondition::kUnexpectedRequest, "not-subscribed");
        else ps.set_subscription(svc, r.node, subscriber, "none");
        return f;
      });
      Facts f = co_await std::move(op);
      if (f.error) co_return *f.error;
      if (!subscribe) co_return IqReply::result();
      auto reply = pubsub_element();
      auto& s = reply.add_child("subscription");
      s.set_attr("node", r.node);
      s.set_attr("jid", subscriber);
      s.set_attr("subscription", "subscribed");
      // §6.3.7: the resulting options, as a result form.
      if (options) reply.add_child("options").add_child(adhoc::to_element(to_form(*options, "result")));
      // A subscriber already there keeps its options unless it sent new ones.
      const bool deliver = options ? options->deliver : (!f.subscription || f.subscription->deliver);
      if (!f.items.empty() && deliver) {
        // §6.1.7: the last item follows the result.
        xml::Element event("event", kEventNs);
        event.add_child(items_element(r.node, f.items, kEventNs));
        host_.spawn(deliver_later(host_, svc, subscriber, xml::to_string(event, "")));
      }
      co_return reply;
    }
    case Action::kGetConfig:
    case Action::kSetConfig: {
      const bool is_set = r.action == Action::kSetConfig;
      if (is_set && r.form->type == "cancel") co_return IqReply::result();
      auto op = blocking_.run([&] {
        Facts f = load(ps, svc, r.node, from, admin);
        if (f.error) return f;
        if (!is_owner(f)) {
          f.error = forbidden();
          return f;
        }
        if (!is_set) return f;
        if (apply_form(f.config, *r.form, opts.max_items) || !is_service_model(f.config.access_model)) {
          f.error = StanzaError(StanzaCondition::kNotAcceptable, "unsupported configuration");
          return f;
        }
        ps.set_config(svc, r.node, serialize(f.config));
        return f;
      });
      Facts f = co_await std::move(op);
      if (f.error) co_return *f.error;
      if (is_set) co_return IqReply::result();
      auto reply = pubsub_element(kOwnerNs);
      auto& c = reply.add_child("configure");
      c.set_attr("node", r.node);
      c.add_child(adhoc::to_element(to_form(f.config)));
      co_return reply;
    }
    case Action::kDefault: {
      auto reply = pubsub_element(kOwnerNs);
      reply.add_child("default").add_child(adhoc::to_element(to_form(default_config(false))));
      co_return reply;
    }
    case Action::kDelete:
    case Action::kPurge: {
      const bool is_delete = r.action == Action::kDelete;
      auto op = blocking_.run([&] {
        Facts f = load(ps, svc, r.node, from, admin);
        if (f.error) return f;
        if (!is_owner(f)) f.error = forbidden();
        else if (is_delete) ps.delete_node(svc, r.node);
        else ps.purge(svc, r.node);
        return f;
      });
      Facts f = co_await std::move(op);
      if (f.error) co_return *f.error;
      if (is_delete ? f.config.notify_delete : f.config.notify_retract)
        deliver_to_subscribers(host_, svc, f.subscribers,
                               xml::to_string(event_with(is_delete ? "delete" : "purge", r.node), ""),
                               body_for(svc, r.node, is_delete ? "Deleted" : "Purged"));
      co_return IqReply::result();
    }
    case Action::kGetNodeSubscriptions:
    case Action::kSetNodeSubscriptions:
    case Action::kGetNodeAffiliations:
    case Action::kSetNodeAffiliations: {
      const bool subs = r.action == Action::kGetNodeSubscriptions || r.action == Action::kSetNodeSubscriptions;
      const bool is_set = r.action == Action::kSetNodeSubscriptions || r.action == Action::kSetNodeAffiliations;
      for (auto& [jid, value] : r.changes) {
        auto parsed_jid = xmpp::Jid::parse(jid);
        const bool ok = subs ? (value == "subscribed" || value == "none")
                             : (value == "owner" || value == "publisher" || value == "member" ||
                                value == "outcast" || value == "none" || value == "publish-only");
        if (!parsed_jid || !ok) co_return StanzaError(StanzaCondition::kBadRequest, "bad entry for " + jid);
        jid = subs ? parsed_jid->to_string() : parsed_jid->bare_string();
      }
      struct Found {
        Facts facts;
        std::vector<storage::PubsubEntry> entries;
      };
      auto op = blocking_.run([&] {
        Found out;
        out.facts = load(ps, svc, r.node, from, admin);
        if (out.facts.error) return out;
        if (!is_owner(out.facts)) {
          out.facts.error = forbidden();
          return out;
        }
        for (const auto& [jid, value] : r.changes) {
          if (subs) ps.set_subscription(svc, r.node, jid, value);
          else ps.set_affiliation(svc, r.node, jid, value);
        }
        if (!is_set) out.entries = subs ? ps.subscriptions(svc, r.node) : ps.affiliations(svc, r.node);
        return out;
      });
      Found out = co_await std::move(op);
      if (out.facts.error) co_return *out.facts.error;
      if (is_set) co_return IqReply::result();
      auto reply = pubsub_element(kOwnerNs);
      auto& list = reply.add_child(subs ? "subscriptions" : "affiliations");
      list.set_attr("node", r.node);
      for (const auto& e : out.entries) {
        auto& el = list.add_child(subs ? "subscription" : "affiliation");
        el.set_attr("jid", e.jid);
        el.set_attr(subs ? "subscription" : "affiliation", e.value);
      }
      co_return reply;
    }
    case Action::kSubscriptions:
    case Action::kAffiliations: {
      const bool subs = r.action == Action::kSubscriptions;
      auto op = blocking_.run([&] { return read_own_entries(ps, svc, from, subs, false, r.node); });
      auto found = co_await std::move(op);
      co_return own_entries_result(subs, found);
    }
    case Action::kGetOptions:
    case Action::kSetOptions: {
      // §6.3: a subscriber's own options (or any, for an admin).
      auto jid = xmpp::Jid::parse(r.jid);
      if (!jid) co_return pubsub_error(StanzaCondition::kBadRequest, "invalid-jid");
      if (jid->bare() != from.bare() && !admin) co_return forbidden();
      const bool is_set = r.action == Action::kSetOptions;
      const std::string subscriber = jid->to_string();
      auto op = blocking_.run([&] {
        Facts f = load(ps, svc, r.node, from, admin, subscriber);
        if (f.error) return f;
        if (!f.subscription) {
          f.error = pubsub_error(StanzaCondition::kUnexpectedRequest, "not-subscribed");
          return f;
        }
        if (!is_set) return f;
        if (apply_form(*f.subscription, *r.form)) {
          f.error = pubsub_error(StanzaCondition::kBadRequest, "invalid-options");
          return f;
        }
        ps.set_subscription_options(svc, r.node, subscriber, serialize(*f.subscription));
        return f;
      });
      Facts f = co_await std::move(op);
      if (f.error) co_return *f.error;
      if (is_set) co_return IqReply::result();
      auto reply = pubsub_element();
      auto& o = reply.add_child("options");
      o.set_attr("node", r.node);
      o.set_attr("jid", subscriber);
      o.add_child(adhoc::to_element(to_form(*f.subscription)));
      co_return reply;
    }
  }
  co_return StanzaError(StanzaCondition::kFeatureNotImplemented);
}

namespace {

// disco#info and disco#items of the service and its nodes (XEP-0060 §5).
awaitable<IqReply> disco(std::shared_ptr<PubsubService> self, const IqRequest& req) {
  const xml::Element& query = req.payload();
  const std::string node(query.attr_or("node"));
  const std::string svc = req.to.domain();
  auto& ps = self->storage().pubsub();
  const bool info = query.ns() == kInfoNs;
  auto op = self->blocking().run([&] {
    std::vector<storage::PubsubNodeRecord> nodes;
    if (node.empty()) {
      if (!info) nodes = ps.nodes(svc);
    } else if (auto rec = ps.node(svc, node)) {
      nodes.push_back(*rec);
    }
    return nodes;
  });
  auto nodes = co_await std::move(op);
  xml::Element out("query", info ? kInfoNs : kItemsNs);
  if (!node.empty()) out.set_attr("node", node);
  if (info) {
    if (!node.empty() && nodes.empty()) co_return StanzaError(StanzaCondition::kItemNotFound);
    auto& id = out.add_child("identity");
    id.set_attr("category", "pubsub");
    id.set_attr("type", node.empty() ? "service" : "leaf");
    if (node.empty()) {
      out.add_child("feature").set_attr("var", kInfoNs);
      out.add_child("feature").set_attr("var", kItemsNs);
      for (const char* f : kServiceFeatures) out.add_child("feature").set_attr("var", f);
    } else {
      out.add_child("feature").set_attr("var", kNs);
    }
    co_return out;
  }
  if (node.empty())
    for (const auto& n : nodes) {
      auto& item = out.add_child("item");
      item.set_attr("jid", svc);
      item.set_attr("node", n.node);
      auto config = deserialize(n.config);
      if (config && !config->title.empty()) item.set_attr("name", config->title);
    }
  co_return out;
}

}  // namespace

awaitable<void> PubsubService::answer(xml::Element stanza, xmpp::Jid from, xmpp::Jid to) {
  IqRequest req{std::move(stanza), std::move(from), std::move(to),
                router::IqType::kGet, {}, false};
  req.type = req.stanza.attr_or("type") == "set" ? router::IqType::kSet : router::IqType::kGet;
  IqReply reply;
  try {
    const auto children = req.stanza.children();
    if (children.size() != 1) {
      reply = StanzaError(StanzaCondition::kBadRequest, "an iq get/set has exactly one child");
    } else if (req.payload().name() == "pubsub" &&
               (req.payload().ns() == kNs || req.payload().ns() == kOwnerNs)) {
      auto op = handle(req);
      reply = co_await std::move(op);
    } else if (req.type == router::IqType::kGet && req.payload().name() == "query" &&
               (req.payload().ns() == kInfoNs || req.payload().ns() == kItemsNs)) {
      auto op = disco(shared_from_this(), req);
      reply = co_await std::move(op);
    } else {
      reply = StanzaError(StanzaCondition::kServiceUnavailable);
    }
  } catch (const std::exception& e) {
    spdlog::error("pubsub: {} failed: {}", req.stanza.attr_or("id"), e.what());
    reply = StanzaError(StanzaCondition::kInternalServerError);
  }
  if (reply.error) {
    host_.bounce(req.stanza, *reply.error);
    co_return;
  }
  xml::Element result = xmpp::make_iq_result(req.stanza);
  if (reply.payload) result.add_child(std::move(*reply.payload));
  host_.route(std::move(result));
}

void PubsubService::on_stanza(xml::Element stanza, const xmpp::Jid& from, const xmpp::Jid& to) {
  const auto type = stanza.attr_or("type");
  if (stanza.name() == "iq" && (type == "get" || type == "set")) {
    host_.spawn(answer(std::move(stanza), from, to));
    return;
  }
  // Messages to the service are not a feature (§ none): refused; presence
  // and responses are ignored.
  if (stanza.name() == "message" && type != "error")
    host_.bounce(stanza, StanzaError(StanzaCondition::kServiceUnavailable));
}

namespace {

}  // namespace

std::unique_ptr<Module> start_pubsub(ModuleContext& ctx) {
  ServiceOptions o = read_options("pubsub", ctx.options, kPubsubOptions);
  for (const auto& text : ctx.config.admins)
    if (auto jid = xmpp::Jid::parse(text)) o.admins.insert(jid->bare_string());
  auto service = std::make_shared<PubsubService>(ctx.host, ctx.storage, ctx.blocking, o);

  auto m = std::make_unique<Module>();
  std::set<std::string> served;
  for (const auto& domain : ctx.host.domains()) {
    const std::string name = service_domain("pubsub", "domain", o.domain, domain);
    if (!served.insert(name).second) continue;
    m->tokens.push_back(ctx.serve_domain(
        name, [service](xml::Element stanza, const xmpp::Jid& from, const xmpp::Jid& to) {
          service->on_stanza(std::move(stanza), from, to);
        }));
    ctx.features.disco_items.push_back({name, "", "Publish-subscribe"});
  }
  return m;
}

TERN_MODULE("pubsub", "XEP-0060 publish-subscribe service at pubsub.<domain>", &start_pubsub, 60,
            kPubsubOptions);

}  // namespace tern::modules::pubsub
