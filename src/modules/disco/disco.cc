// XEP-0030 service discovery.
//
// To the server: identity server/im and the features every started module
// contributed; no items yet (components and MUC will add them).
// To an account's bare JID (§3.1, §4.1): the server answers for the account,
// but only to those allowed to know about it (§8): the account itself, an
// admin, or a contact the account shares presence with (subscription from or
// both). Everyone else gets service-unavailable for disco#info and an empty
// disco#items, whether the account exists or not, so nothing can be
// harvested.
#include "modules/disco/disco.h"

#include <algorithm>
#include <map>
#include <set>

#include "modules/options.h"

namespace tern::modules {
namespace disco {

std::vector<DiscoItem> subdomain_items(const std::vector<DiscoItem>& items,
                                       const std::string& domain) {
  const std::string suffix = "." + domain;
  std::vector<DiscoItem> found;
  for (const auto& item : items)
    if (item.jid.size() > suffix.size() && item.jid.ends_with(suffix)) found.push_back(item);
  return found;
}

std::vector<std::string> feature_list(std::vector<std::string> contributed) {
  contributed.emplace_back(kInfoNs);
  contributed.emplace_back(kItemsNs);
  std::sort(contributed.begin(), contributed.end());
  contributed.erase(std::unique(contributed.begin(), contributed.end()), contributed.end());
  return contributed;
}

xml::Element info_result(const Identity& identity, const std::vector<std::string>& features,
                         std::string_view node) {
  xml::Element query("query", std::string(kInfoNs));
  if (!node.empty()) query.set_attr("node", node);
  auto& id = query.add_child("identity");
  id.set_attr("category", identity.category);
  id.set_attr("type", identity.type);
  if (!identity.name.empty()) id.set_attr("name", identity.name);
  for (const auto& f : features) query.add_child("feature").set_attr("var", f);
  return query;
}

xml::Element items_result(const std::vector<DiscoItem>& items, std::string_view node) {
  xml::Element query("query", std::string(kItemsNs));
  if (!node.empty()) query.set_attr("node", node);
  for (const auto& item : items) {
    auto& el = query.add_child("item");
    el.set_attr("jid", item.jid);
    if (!item.node.empty()) el.set_attr("node", item.node);
    if (!item.name.empty()) el.set_attr("name", item.name);
  }
  return query;
}

bool shares_presence(std::string_view subscription) {
  return subscription == "from" || subscription == "both";
}

}  // namespace disco

namespace {

using router::IqReply;
using router::IqRequest;
using xmpp::StanzaCondition;
using xmpp::StanzaError;

struct DiscoOptions {
  std::string name = "Tern";
};
constexpr OptionField<DiscoOptions> kDiscoOptions[] = {
    option("name", &DiscoOptions::name,
           "Name of the server in disco#info (its server/im identity)"),
};

struct DiscoState {
  Host host;
  storage::Storage& storage;
  core::BlockingPool& blocking;
  disco::Identity server_identity;
  std::vector<std::string> server_features;
  std::vector<std::string> account_features;
  std::set<std::string> admins;  // bare JIDs
  std::map<std::string, DiscoNodeItems> server_item_nodes;
  std::vector<DiscoItem> server_items;  // services on subdomains
  // Handlers registered before disco for the same keys: they answer nodes.
  router::IqHandler server_info_nodes, server_items_nodes;
  router::IqHandler account_info_nodes, account_items_nodes;
  std::vector<DiscoIdentity> account_identities;  // beside account/registered
  std::vector<AccountDiscoItems> account_items;
};
using State = std::shared_ptr<const DiscoState>;

// A request naming a node goes to the module that owns nodes, if any.
awaitable<IqReply> answer_node(const router::IqHandler& owner, const IqRequest& req) {
  if (owner) co_return co_await owner(req);
  co_return IqReply::fail(StanzaError(StanzaCondition::kItemNotFound));
}

// XEP-0030 §8: may the sender learn about the account `req.to`? The account
// must exist, and the sender be it, an admin, or a contact it shares
// presence with.
awaitable<bool> may_see_account(State st, const IqRequest& req) {
  const xmpp::Jid requester = req.from.bare();
  if (requester == req.to) co_return true;
  const std::string requester_jid = requester.to_string();
  const bool admin = st->admins.count(requester_jid) > 0;
  const storage::AccountKey owner{req.to.node(), req.to.domain()};
  bool allowed = co_await st->blocking.run([&] {
    if (!st->storage.accounts().exists(owner)) return false;
    if (admin) return true;
    auto item = st->storage.roster().item(owner, requester_jid);
    return item.has_value() && disco::shares_presence(item->subscription);
  });
  co_return allowed;
}

awaitable<IqReply> server_info(State st, const IqRequest& req) {
  if (req.payload().attr("node")) co_return co_await answer_node(st->server_info_nodes, req);
  co_return IqReply::result(disco::info_result(st->server_identity, st->server_features));
}

awaitable<IqReply> server_items(State st, const IqRequest& req) {
  auto node = req.payload().attr("node");
  if (!node) co_return IqReply::result(disco::items_result(disco::subdomain_items(st->server_items, req.to.domain())));
  auto owner = st->server_item_nodes.find(std::string(*node));
  if (owner == st->server_item_nodes.end())
    co_return co_await answer_node(st->server_items_nodes, req);
  std::vector<DiscoItem> items = owner->second(req.from);
  // An item without a JID belongs to the server itself.
  for (auto& item : items)
    if (item.jid.empty()) item.jid = req.to.to_string();
  co_return IqReply::result(disco::items_result(items, *node));
}

awaitable<IqReply> account_info(State st, const IqRequest& req) {
  // §8 rule 1: service-unavailable for an account that does not exist or
  // that the sender may not see, with or without a node.
  const bool allowed = co_await may_see_account(st, req);
  if (!allowed) co_return IqReply::fail(StanzaError(StanzaCondition::kServiceUnavailable));
  if (req.payload().attr("node")) co_return co_await answer_node(st->account_info_nodes, req);
  disco::Identity identity{"account", "registered", {}};
  auto result = disco::info_result(identity, st->account_features);
  // Further identities go after the first; disco sorts nothing but features.
  for (const auto& extra : st->account_identities) {
    xml::Element id("identity", std::string(disco::kInfoNs));
    id.set_attr("category", extra.category);
    id.set_attr("type", extra.type);
    if (!extra.name.empty()) id.set_attr("name", extra.name);
    auto& nodes = result.nodes();
    xml::Node n;
    n.element = std::make_unique<xml::Element>(std::move(id));
    nodes.insert(nodes.begin() + 1, std::move(n));
  }
  co_return IqReply::result(std::move(result));
}

awaitable<IqReply> account_items(State st, const IqRequest& req) {
  const std::string node(req.payload().attr_or("node"));
  // §8 rule 2: an empty result when the account does not exist or the
  // sender may not see its resources.
  const bool allowed = co_await may_see_account(st, req);
  if (!allowed) co_return IqReply::result(disco::items_result({}, node));
  if (req.payload().attr("node")) co_return co_await answer_node(st->account_items_nodes, req);
  // §4.1: the account's available resources.
  std::vector<DiscoItem> resources;
  for (const auto& session : st->host.sessions().sessions_of(req.to))
    if (session->is_available()) resources.push_back({session->jid().to_string(), {}, {}});
  std::sort(resources.begin(), resources.end(),
            [](const DiscoItem& a, const DiscoItem& b) { return a.jid < b.jid; });
  for (const auto& source : st->account_items) {
    auto op = source(req.from, req.to);
    auto more = co_await std::move(op);
    resources.insert(resources.end(), more.begin(), more.end());
  }
  co_return IqReply::result(disco::items_result(resources));
}

}  // namespace

std::unique_ptr<Module> start_disco(ModuleContext& ctx) {
  const auto opts = read_options("disco", ctx.options, kDiscoOptions);
  auto earlier = [&ctx](router::IqTarget target, std::string_view ns) {
    const router::IqHandler* h = ctx.iq_handler(target, router::IqType::kGet, std::string(ns));
    return h ? *h : router::IqHandler{};
  };
  auto st = std::make_shared<DiscoState>(DiscoState{
      ctx.host,
      ctx.storage,
      ctx.blocking,
      disco::Identity{"server", "im", opts.name},
      disco::feature_list(ctx.features.disco_features),
      disco::feature_list(ctx.features.account_features),
      std::set<std::string>(ctx.config.admins.begin(), ctx.config.admins.end()),
      ctx.features.disco_item_nodes,
      ctx.features.disco_items,
      earlier(router::IqTarget::kServer, disco::kInfoNs),
      earlier(router::IqTarget::kServer, disco::kItemsNs),
      earlier(router::IqTarget::kAccount, disco::kInfoNs),
      earlier(router::IqTarget::kAccount, disco::kItemsNs),
      ctx.features.account_identities,
      ctx.features.account_items,
  });

  auto m = std::make_unique<Module>();
  using router::IqTarget;
  using router::IqType;
  // disco's own two features are in its lists already (feature_list).
  m->tokens.push_back(ctx.serve_iq({IqTarget::kServer, IqType::kGet, disco::kInfoNs, "query"},
                                    [st](const IqRequest& req) { return server_info(st, req); }));
  m->tokens.push_back(ctx.serve_iq({IqTarget::kServer, IqType::kGet, disco::kItemsNs, "query"},
                                    [st](const IqRequest& req) { return server_items(st, req); }));
  m->tokens.push_back(ctx.serve_iq({IqTarget::kAccount, IqType::kGet, disco::kInfoNs, "query"},
                                    [st](const IqRequest& req) { return account_info(st, req); }));
  m->tokens.push_back(ctx.serve_iq({IqTarget::kAccount, IqType::kGet, disco::kItemsNs, "query"},
                                    [st](const IqRequest& req) { return account_items(st, req); }));
  return m;
}

// Last: it lists what every other module advertised.
TERN_MODULE("disco", "XEP-0030 service discovery", &start_disco, 100, kDiscoOptions);

}  // namespace tern::modules
