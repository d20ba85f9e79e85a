// Parsing of pubsub requests (XEP-0060 §6-8). The shapes are strict where a
// wrong guess would act on the wrong node or item (a publish without
// exactly one item, a retract without an id) and lenient where clients
// differ harmlessly (unknown attributes, extra whitespace).
#include "modules/pubsub/request.h"

#include <charconv>
#include <map>

namespace tern::modules::pubsub {
namespace {

using xmpp::StanzaCondition;
using xmpp::StanzaError;

// The one child the request names, ignoring <publish-options/>,
// <configure/> or <options/> beside <publish/>, <create/> or <subscribe/>.
const xml::Element* main_child(const std::vector<const xml::Element*>& children) {
  for (const auto* c : children)
    if (c->name() != "publish-options" && c->name() != "configure" && c->name() != "options" &&
        c->name() != "set")
      return c;
  // <configure/> or <options/> alone is a request of its own.
  for (const auto* c : children)
    if (c->name() == "configure" || c->name() == "options") return c;
  return nullptr;
}

std::optional<std::size_t> parse_count(std::string_view s) {
  std::size_t n = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return n;
}

// The data form inside `wrapper` (<publish-options/>, <configure/>,
// <options/>): none is fine, a broken one is bad-request.
std::optional<StanzaError> read_form(const xml::Element* wrapper,
                                     std::optional<adhoc::DataForm>& out) {
  if (!wrapper) return std::nullopt;
  const xml::Element* x = wrapper->child("x", adhoc::kDataFormsNs);
  if (!x) return std::nullopt;
  out = adhoc::parse_form(*x);
  if (!out) return StanzaError(StanzaCondition::kBadRequest, "malformed data form");
  return std::nullopt;
}

std::optional<StanzaError> read_rsm(const xml::Element& pubsub, Request& r) {
  const xml::Element* set = pubsub.child("set", kRsmNs);
  if (!set) return std::nullopt;
  Rsm rsm;
  if (const auto* max = set->child("max", kRsmNs)) {
    rsm.max = parse_count(max->text());
    if (!rsm.max) return StanzaError(StanzaCondition::kBadRequest, "bad RSM <max/>");
  }
  if (const auto* after = set->child("after", kRsmNs)) rsm.after = after->text();
  if (const auto* before = set->child("before", kRsmNs)) rsm.before = before->text();
  r.rsm = std::move(rsm);
  return std::nullopt;
}

std::variant<Request, StanzaError> parse_user(const xml::Element& pubsub,
                                               const xml::Element& main, bool is_set) {
  Request r;
  r.node = std::string(main.attr_or("node"));
  const auto& name = main.name();
  if (is_set && name == "publish") {
    r.action = Action::kPublish;
    if (r.node.empty()) return pubsub_error(StanzaCondition::kBadRequest, "nodeid-required");
    auto items = main.children();
    if (items.size() > 1 || (items.size() == 1 && items[0]->name() != "item"))
      return pubsub_error(StanzaCondition::kBadRequest, "invalid-payload", "one <item/> per publish");
    RequestItem item;
    if (!items.empty()) {
      item.id = std::string(items[0]->attr_or("id"));
      auto payload = items[0]->children();
      if (payload.size() > 1)
        return pubsub_error(StanzaCondition::kBadRequest, "invalid-payload", "one payload per item");
      if (payload.size() == 1) item.payload = *payload[0];
    }
    r.items.push_back(std::move(item));
    if (auto err = read_form(pubsub.child("publish-options", kNs), r.form)) return *err;
    return r;
  }
  if (is_set && name == "retract") {
    r.action = Action::kRetract;
    if (r.node.empty()) return pubsub_error(StanzaCondition::kBadRequest, "nodeid-required");
    const auto notify = main.attr_or("notify");
    r.notify = notify == "true" || notify == "1";
    for (const auto* item : main.children()) {
      if (item->name() != "item" || item->attr_or("id").empty())
        return pubsub_error(StanzaCondition::kBadRequest, "item-required");
      r.items.push_back({std::string(item->attr_or("id")), std::nullopt});
    }
    if (r.items.empty()) return pubsub_error(StanzaCondition::kBadRequest, "item-required");
    return r;
  }
  if (!is_set && name == "items") {
    r.action = Action::kItems;
    if (r.node.empty()) return pubsub_error(StanzaCondition::kBadRequest, "nodeid-required");
    if (auto max = main.attr("max_items")) {
      r.max_items = parse_count(*max);
      if (!r.max_items) return StanzaError(StanzaCondition::kBadRequest, "bad max_items");
    }
    for (const auto* item : main.children()) {
      if (item->name() != "item" || item->attr_or("id").empty())
        return StanzaError(StanzaCondition::kBadRequest, "an <item/> needs an id");
      r.items.push_back({std::string(item->attr_or("id")), std::nullopt});
    }
    if (auto err = read_rsm(pubsub, r)) return *err;
    return r;
  }
  if (is_set && name == "create") {
    r.action = Action::kCreate;
    if (auto err = read_form(pubsub.child("configure", kNs), r.form)) return *err;
    return r;
  }
  if (is_set && (name == "subscribe" || name == "unsubscribe")) {
    r.action = name == "subscribe" ? Action::kSubscribe : Action::kUnsubscribe;
    r.jid = std::string(main.attr_or("jid"));
    if (r.jid.empty()) return pubsub_error(StanzaCondition::kBadRequest, "invalid-jid");
    if (r.action == Action::kSubscribe) {
      const xml::Element* options = pubsub.child("options", kNs);
      // §6.3.7: the node and JID are the <subscribe/>'s, never repeated.
      if (options && (options->attr("node") || options->attr("jid")))
        return StanzaError(StanzaCondition::kBadRequest, "<options/> beside <subscribe/> names no node or jid");
      if (auto err = read_form(options, r.form)) return *err;
    }
    return r;
  }
  if (name == "options") {
    r.action = is_set ? Action::kSetOptions : Action::kGetOptions;
    r.jid = std::string(main.attr_or("jid"));
    // §6.3.4.3
    if (r.jid.empty()) return pubsub_error(StanzaCondition::kBadRequest, "jid-required");
    if (is_set) {
      if (auto err = read_form(&main, r.form)) return *err;
      if (!r.form) return StanzaError(StanzaCondition::kBadRequest, "no options form");
    }
    return r;
  }
  if (!is_set && name == "subscriptions") {
    r.action = Action::kSubscriptions;
    return r;
  }
  if (!is_set && name == "affiliations") {
    r.action = Action::kAffiliations;
    return r;
  }
  return StanzaError(StanzaCondition::kFeatureNotImplemented, "unknown pubsub request <" + name + "/>");
}

std::variant<Request, StanzaError> parse_owner(const xml::Element& main, bool is_set) {
  Request r;
  r.node = std::string(main.attr_or("node"));
  const auto& name = main.name();
  if (name == "default" && !is_set) {
    r.action = Action::kDefault;
    return r;
  }
  if (name == "configure") {
    r.action = is_set ? Action::kSetConfig : Action::kGetConfig;
    if (r.node.empty()) return pubsub_error(StanzaCondition::kBadRequest, "nodeid-required");
    if (is_set) {
      if (auto err = read_form(&main, r.form)) return *err;
      if (!r.form) return StanzaError(StanzaCondition::kBadRequest, "no configuration form");
    }
    return r;
  }
  if (is_set && (name == "delete" || name == "purge")) {
    r.action = name == "delete" ? Action::kDelete : Action::kPurge;
    if (r.node.empty()) return pubsub_error(StanzaCondition::kBadRequest, "nodeid-required");
    return r;
  }
  if (name == "subscriptions" || name == "affiliations") {
    const bool subs = name == "subscriptions";
    r.action = subs ? (is_set ? Action::kSetNodeSubscriptions : Action::kGetNodeSubscriptions)
                    : (is_set ? Action::kSetNodeAffiliations : Action::kGetNodeAffiliations);
    if (r.node.empty()) return pubsub_error(StanzaCondition::kBadRequest, "nodeid-required");
    if (!is_set) return r;
    const char* child = subs ? "subscription" : "affiliation";
    for (const auto* c : main.children()) {
      if (c->name() != child) continue;
      auto jid = c->attr_or("jid");
      auto value = c->attr_or(child);
      if (jid.empty() || value.empty())
        return StanzaError(StanzaCondition::kBadRequest, std::string("<") + child + "/> needs jid and " + child);
      r.changes.emplace_back(std::string(jid), std::string(value));
    }
    return r;
  }
  return StanzaError(StanzaCondition::kFeatureNotImplemented,
                     "unknown pubsub#owner request <" + name + "/>");
}

// Every pubsub#errors condition the server uses, built once and never
// changed: StanzaError keeps a pointer to its application condition.
const std::map<std::string, xml::Element, std::less<>>& conditions() {
  static const auto kConditions = [] {
    std::map<std::string, xml::Element, std::less<>> m;
    for (const char* name :
         {"closed-node", "configuration-required", "invalid-jid", "invalid-options",
          "invalid-payload", "invalid-subid", "item-forbidden", "item-required", "jid-required",
          "max-items-exceeded", "max-nodes-exceeded", "nodeid-required", "not-in-roster-group",
          "not-subscribed", "payload-too-big", "payload-required", "pending-subscription",
          "precondition-not-met", "presence-subscription-required", "subid-required",
          "too-many-subscriptions", "unsupported-access-model"})
      m.emplace(name, xml::Element(name, kErrorsNs));
    for (const char* feature : {"access-authorize", "collections", "multi-items",
                                "subscription-options", "publish", "retract-items",
                                "retrieve-items", "create-nodes", "config-node", "purge-nodes",
                                "delete-nodes", "subscribe", "persistent-items",
                                "modify-affiliations", "manage-subscriptions"}) {
      xml::Element e("unsupported", kErrorsNs);
      e.set_attr("feature", feature);
      m.emplace(std::string("unsupported:") + feature, std::move(e));
    }
    return m;
  }();
  return kConditions;
}

}  // namespace

std::variant<Request, StanzaError> parse_request(const xml::Element& pubsub, bool is_set) {
  const bool owner = pubsub.ns() == kOwnerNs;
  if (pubsub.name() != "pubsub" || (!owner && pubsub.ns() != kNs))
    return StanzaError(StanzaCondition::kBadRequest, "expected <pubsub/>");
  const xml::Element* main = main_child(pubsub.children());
  if (!main) return StanzaError(StanzaCondition::kBadRequest, "empty <pubsub/>");
  if (main->ns() != pubsub.ns())
    return StanzaError(StanzaCondition::kBadRequest, "request in a foreign namespace");
  return owner ? parse_owner(*main, is_set) : parse_user(pubsub, *main, is_set);
}

const xml::Element* error_condition(std::string_view name) {
  const auto& m = conditions();
  auto it = m.find(name);
  return it == m.end() ? nullptr : &it->second;
}

xmpp::StanzaError pubsub_error(xmpp::StanzaCondition condition, std::string_view app,
                               std::string text) {
  StanzaError err(condition, std::move(text));
  err.app = error_condition(app);
  return err;
}

xmpp::StanzaError unsupported(std::string_view feature) {
  StanzaError err(StanzaCondition::kFeatureNotImplemented);
  err.app = error_condition(std::string("unsupported:") + std::string(feature));
  return err;
}

}  // namespace tern::modules::pubsub
