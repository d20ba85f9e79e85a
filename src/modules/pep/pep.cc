// The pep module: options, registrations and hooks. See pep.h for the
// facets and docs/pep.md for what is stored and the limits.
#include "modules/pep/pep.h"

#include "modules/options.h"
#include "modules/pep/bookmarks.h"

namespace tern::modules {
namespace {

using router::IqRequest;

// What the account's disco#info lists (XEP-0163 §9, XEP-0060 §10).
constexpr const char* kAccountFeatures[] = {
    "http://jabber.org/protocol/pubsub",
    "http://jabber.org/protocol/pubsub#access-open",
    "http://jabber.org/protocol/pubsub#access-presence",
    "http://jabber.org/protocol/pubsub#access-roster",
    "http://jabber.org/protocol/pubsub#access-whitelist",
    "http://jabber.org/protocol/pubsub#auto-create",
    "http://jabber.org/protocol/pubsub#auto-subscribe",
    "http://jabber.org/protocol/pubsub#config-node",
    "http://jabber.org/protocol/pubsub#create-and-configure",
    "http://jabber.org/protocol/pubsub#create-nodes",
    "http://jabber.org/protocol/pubsub#delete-items",
    "http://jabber.org/protocol/pubsub#delete-nodes",
    "http://jabber.org/protocol/pubsub#filtered-notifications",
    "http://jabber.org/protocol/pubsub#instant-nodes",
    "http://jabber.org/protocol/pubsub#item-ids",
    "http://jabber.org/protocol/pubsub#last-published",
    "http://jabber.org/protocol/pubsub#manage-subscriptions",
    "http://jabber.org/protocol/pubsub#modify-affiliations",
    "http://jabber.org/protocol/pubsub#persistent-items",
    "http://jabber.org/protocol/pubsub#presence-notifications",
    "http://jabber.org/protocol/pubsub#publish",
    "http://jabber.org/protocol/pubsub#publish-options",
    "http://jabber.org/protocol/pubsub#purge-nodes",
    "http://jabber.org/protocol/pubsub#retract-items",
    "http://jabber.org/protocol/pubsub#retrieve-affiliations",
    "http://jabber.org/protocol/pubsub#retrieve-default",
    "http://jabber.org/protocol/pubsub#retrieve-items",
    "http://jabber.org/protocol/pubsub#retrieve-subscriptions",
    "http://jabber.org/protocol/pubsub#rsm",
    "http://jabber.org/protocol/pubsub#subscribe",
};

// disco#items of an account: the nodes the requester may see.
awaitable<std::vector<DiscoItem>> node_items(std::shared_ptr<pep::PepService> pep,
                                             xmpp::Jid requester, xmpp::Jid account) {
  const std::string owner = account.bare_string();
  const bool is_owner = requester.bare() == account;
  auto& store = pep->storage();
  auto op = pep->blocking().run([&] {
    std::vector<DiscoItem> items;
    for (const auto& n : store.pubsub().nodes(owner)) {
      auto config = pubsub::deserialize(n.config);
      // Contacts that may see the account see its presence-model and open
      // nodes; the rest only the owner lists.
      if (!is_owner && (!config || (config->access_model != pubsub::AccessModel::kOpen &&
                                    config->access_model != pubsub::AccessModel::kPresence)))
        continue;
      items.push_back({owner, n.node, {}});
    }
    return items;
  });
  co_return co_await std::move(op);
}

// Private XML storage (XEP-0049) of bookmarks, answered by the private
// module, then copied to PEP (XEP-0402 §5 compatibility).
awaitable<router::IqReply> private_set_then_sync(std::shared_ptr<pep::PepService> pep,
                                                 router::IqHandler private_set, const IqRequest& req) {
  auto op = private_set(req);
  router::IqReply reply = co_await std::move(op);
  if (!reply.error && req.from.bare() == req.to &&
      req.payload().child("storage", pep::bookmarks::kLegacyNs)) {
    auto sync = pep::sync_bookmarks(pep, req.to.bare_string(), pep::BookmarkSource::kPrivate);
    co_await std::move(sync);
  }
  co_return reply;
}

// A vCard set (the vcard module answers it), then its PHOTO published as the
// PEP avatar (XEP-0398) and its hash announced in presence (XEP-0153).
awaitable<router::IqReply> vcard_set_then_sync(std::shared_ptr<pep::PepService> pep,
                                               router::IqHandler vcard_set, const IqRequest& req) {
  auto op = vcard_set(req);
  router::IqReply reply = co_await std::move(op);
  if (reply.error || req.from.bare() != req.to) co_return reply;
  if (auto photo = pep::avatar::photo_of(req.payload())) {
    auto sync = pep::sync_avatar_from_vcard(pep, req.to.bare_string(), std::move(*photo));
    co_await std::move(sync);
  }
  auto announce = pep::photo_may_have_changed(pep, req.to.bare_string());
  co_await std::move(announce);
  auto v4 = pep::sync_vcard4_from_vcard_temp(pep, req.to.bare_string());
  co_await std::move(v4);
  co_return reply;
}

}  // namespace

std::unique_ptr<Module> start_pep(ModuleContext& ctx) {
  pep::PepOptions o = read_options("pep", ctx.options, pep::kPepOptions);
  o.with_vcard = ctx.iq_handler(router::IqTarget::kAccount, router::IqType::kSet, "vcard-temp") != nullptr;
  auto pep = std::make_shared<pep::PepService>(ctx.host, ctx.storage, ctx.blocking, o);

  auto m = std::make_unique<Module>();
  using router::IqTarget, router::IqType;
  auto handle = [pep](const IqRequest& req) { return pep->handle(req); };
  for (auto type : {IqType::kGet, IqType::kSet}) {
    m->tokens.push_back(ctx.serve_iq({IqTarget::kAccount, type, pubsub::kNs, "pubsub"}, handle));
    m->tokens.push_back(ctx.serve_iq({IqTarget::kAccount, type, pubsub::kOwnerNs, "pubsub"}, handle));
  }
  for (const char* f : kAccountFeatures) ctx.features.account_features.emplace_back(f);
  // XEP-0402 §5.1 / §5.2: bookmarks are kept in step with XEP-0048 in
  // private storage (when the private module runs) and in PEP; clients
  // such as Conversations switch to XEP-0402 when they see these.
  ctx.features.account_features.emplace_back("urn:xmpp:bookmarks:1#compat-pep");
  if (ctx.iq_handler(IqTarget::kAccount, IqType::kSet, "jabber:iq:private"))
    ctx.features.account_features.emplace_back("urn:xmpp:bookmarks:1#compat");
  // XEP-0398 §3: PEP avatars and vCard photos are converted (when the
  // vcard module runs).
  const bool has_vcard = o.with_vcard;
  if (has_vcard) {
    ctx.features.account_features.emplace_back("urn:xmpp:pep-vcard-conversion:0");
    // XEP-0292 §3: the vCard4 node is kept in step with vcard-temp.
    ctx.features.account_features.emplace_back("urn:xmpp:vcard4");
  }
  ctx.features.account_identities.push_back({"pubsub", "pep", {}});
  ctx.features.account_items.push_back([pep](const xmpp::Jid& requester, const xmpp::Jid& account) {
    return node_items(pep, requester, account);
  });

  // Wrap the private module's set (it starts before this one), if it runs.
  if (const router::IqHandler* earlier =
          ctx.iq_handler(IqTarget::kAccount, IqType::kSet, "jabber:iq:private")) {
    router::IqHandler private_set = *earlier;
    m->tokens.push_back(ctx.serve_iq({IqTarget::kAccount, IqType::kSet, "jabber:iq:private", "query"},
                                     [pep, private_set](const IqRequest& req) {
                                       return private_set_then_sync(pep, private_set, req);
                                     }));
  }

  if (const router::IqHandler* earlier =
          ctx.iq_handler(IqTarget::kAccount, IqType::kSet, "vcard-temp")) {
    router::IqHandler vcard_set = *earlier;
    m->tokens.push_back(ctx.serve_iq({IqTarget::kAccount, IqType::kSet, "vcard-temp", "vCard"},
                                     [pep, vcard_set](const IqRequest& req) {
                                       return vcard_set_then_sync(pep, vcard_set, req);
                                     }));
  }

  // Whom each account hears, with which caps: its own resources' presence
  // and the presence its contacts send it. Before the presence module
  // (priority 0), which may end the chain.
  auto& hooks = ctx.hooks();
  m->tokens.push_back(hooks.presence_broadcast.add(
      [pep](router::RoutedStanza& ev) {
        pep->heard_presence(ev.from.bare(), ev.from, ev.stanza);
        return core::Verdict::kPass;
      },
      5));
  m->tokens.push_back(hooks.to_bare.add(
      [pep](router::RoutedStanza& ev) {
        if (ev.stanza.name() == "presence") pep->heard_presence(ev.to, ev.from, ev.stanza);
        return core::Verdict::kPass;
      },
      5));
  if (has_vcard) {
    // XEP-0398 §4: the photo hash in every available presence, broadcast
    // or directed (MUC joins included), before the presence module sees it
    // (priority 0) and after blocking (100); see photo_hash.cc.
    m->tokens.push_back(hooks.pre_route.add(
        [pep](router::RoutedStanza& ev) {
          pep->stamp_photo_hash(ev.from, ev.stanza);
          return core::Verdict::kPass;
        },
        20));
    m->tokens.push_back(hooks.session_bound.add([pep](router::SessionEvent& ev) {
      pep->load_photo_hash(ev.session.jid());
      return core::Verdict::kPass;
    }));
  }
  m->tokens.push_back(hooks.session_ended.add([pep](router::SessionEvent& ev) {
    const xmpp::Jid& jid = ev.session.jid();
    if (pep->host().sessions().sessions_of(jid.bare()).empty())
      pep->account_offline(jid.bare_string());
    else
      pep->listeners().unavailable(jid.bare_string(), jid.to_string());
    return core::Verdict::kPass;
  }));
  m->tokens.push_back(hooks.iq_response.add([pep](router::RoutedStanza& ev) {
    return pep->take_caps_reply(ev.stanza) ? core::Verdict::kHandled : core::Verdict::kPass;
  }));
  return m;
}

TERN_MODULE("pep", "XEP-0163 Personal Eventing Protocol (pubsub on accounts)", &start_pep, 60,
            pep::kPepOptions);

}  // namespace tern::modules
