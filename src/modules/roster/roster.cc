// RFC 6121 §2 rosters, XEP-0237 roster versioning.
//
// Get and set arrive as iq handlers on the requester's shard; storage runs on
// the blocking pool under the account's roster lock, so that a set and a
// subscription change (presence module) never interleave on one row.
#include "modules/roster/roster.h"

#include <variant>

#include "core/log.h"
#include "modules/options.h"
#include "modules/roster/account_removal.h"
#include "modules/roster/item.h"
#include "modules/roster/push.h"
#include "modules/roster/rosters.h"
#include "xmpp/namespaces.h"

namespace tern::modules {
namespace {

using router::IqReply;
using router::IqRequest;
using xmpp::StanzaCondition;
using xmpp::StanzaError;

struct RosterOptions {
  std::size_t max_items = 1000;
};
constexpr OptionField<RosterOptions> kRosterOptions[] = {
    option("max_items", &RosterOptions::max_items, 1, 1000000,
           "The most contacts one account's roster may hold; a roster set or an inbound "
           "subscription request that would add one more gets policy-violation"),
};

class RosterModule : public Module {
 public:
  RosterModule(ModuleContext& ctx, std::shared_ptr<roster::Rosters> rosters, std::size_t max_items)
      : host_(ctx.host),
        storage_(ctx.storage),
        blocking_(ctx.blocking),
        rosters_(std::move(rosters)),
        max_items_(max_items) {}

  awaitable<IqReply> get(const IqRequest& req);
  awaitable<IqReply> set(const IqRequest& req);

 private:
  awaitable<IqReply> remove(const IqRequest& req, const std::string& jid);
  Host host_;
  storage::Storage& storage_;
  core::BlockingPool& blocking_;
  // Told of every write here: it keeps who gets an account's presence.
  std::shared_ptr<roster::Rosters> rosters_;
  std::size_t max_items_;
};

// RFC 6121 §2.1.5, §2.3.3: a roster belongs to its owner alone.
bool is_own_roster(const IqRequest& req) { return req.to == req.from.bare(); }

awaitable<IqReply> RosterModule::get(const IqRequest& req) {
  if (!is_own_roster(req)) co_return StanzaError(StanzaCondition::kForbidden);
  // §2.1.6: a resource that asked for the roster is an interested resource.
  if (auto session = host_.sessions().find(req.from))
    session->module_state().get<roster::SessionRoster>().requested = true;
  const storage::AccountKey owner{req.from.node(), req.from.domain()};
  std::vector<storage::RosterItem> items;
  std::int64_t version = 0;
  co_await blocking_.run([&] {
    auto lock = roster::lock_account(req.from.bare_string());
    items = storage_.roster().items(owner);
    version = storage_.roster().version(owner);
  });
  const std::string ver = std::to_string(version);
  auto client_ver = req.payload().attr("ver");
  // XEP-0237 §5 / RFC 6121 §2.6.3: nothing changed, nothing to send; the
  // pushes that follow keep the client current.
  if (client_ver && *client_ver == ver) co_return IqReply::result();
  xml::Element query("query", roster::kNs);
  if (client_ver) query.set_attr("ver", ver);
  for (const auto& item : items)
    if (!roster::is_hidden(item)) query.add_child(roster::item_element(item));
  co_return query;
}

awaitable<IqReply> RosterModule::set(const IqRequest& req) {
  if (!is_own_roster(req)) co_return StanzaError(StanzaCondition::kForbidden);
  auto parsed = roster::parse_roster_set(req.payload());
  if (auto* err = std::get_if<StanzaError>(&parsed)) co_return *err;
  auto wanted = std::get<roster::RosterSet>(std::move(parsed));
  if (wanted.remove) co_return co_await remove(req, wanted.jid);

  const storage::AccountKey owner{req.from.node(), req.from.domain()};
  const std::string owner_bare = req.from.bare_string();
  storage::RosterItem item;
  std::int64_t version = 0;
  bool full = false;
  co_await blocking_.run([&] {
    auto lock = roster::lock_account(owner_bare);
    auto old = storage_.roster().item(owner, wanted.jid);
    if (!old && storage_.roster().items(owner).size() >= max_items_) {
      full = true;
      return;
    }
    if (old) item = *old;
    item.jid = wanted.jid;
    item.name = wanted.name;
    item.groups = wanted.groups;
    storage_.roster().put(owner, item);
    rosters_->invalidate(req.from);
    version = storage_.roster().version(owner);
  });
  // A per-account limit is local service policy (RFC 6120 §8.3.3.12;
  // RFC 6121 §2.3.3 leaves the condition to the server).
  if (full) co_return StanzaError(StanzaCondition::kPolicyViolation, "the roster is full");
  roster::push(host_, req.from.bare(), roster::item_element(item), version);
  co_return IqReply::result();
}

awaitable<IqReply> RosterModule::remove(const IqRequest& req, const std::string& jid) {
  const storage::AccountKey owner{req.from.node(), req.from.domain()};
  const std::string owner_bare = req.from.bare_string();
  std::optional<storage::RosterItem> old;
  std::int64_t version = 0;
  co_await blocking_.run([&] {
    auto lock = roster::lock_account(owner_bare);
    old = storage_.roster().item(owner, jid);
    if (old) {
      storage_.roster().remove(owner, jid);
      rosters_->invalidate(req.from);
    }
    version = storage_.roster().version(owner);
  });
  // RFC 6121 §2.5.3: removing what is not there.
  if (!old) co_return StanzaError(StanzaCondition::kItemNotFound);
  roster::push(host_, req.from.bare(), roster::removed_item_element(jid), version);
  roster::cancel_subscriptions(host_, req.from.bare(), *old);
  co_return IqReply::result();
}

}  // namespace

std::unique_ptr<Module> start_roster(ModuleContext& ctx) {
  const std::size_t max_items = read_options("roster", ctx.options, kRosterOptions).max_items;
  auto rosters = std::make_shared<roster::Rosters>(ctx.host, ctx.storage, ctx.blocking, max_items);
  ctx.features.services.offer(rosters);
  auto m = std::make_unique<RosterModule>(ctx, std::move(rosters), max_items);
  auto* self = m.get();
  m->tokens.push_back(ctx.serve_iq({router::IqTarget::kAccount, router::IqType::kGet, roster::kNs, "query"},
                                   [self](const IqRequest& req) { return self->get(req); }));
  m->tokens.push_back(ctx.serve_iq({router::IqTarget::kAccount, router::IqType::kSet, roster::kNs, "query"},
                                   [self](const IqRequest& req) { return self->set(req); }));
  ctx.features.stream_features.push_back("<ver xmlns='urn:xmpp:features:rosterver'/>");
  return m;
}

// Before presence, which reads rosters.
TERN_MODULE("roster", "RFC 6121 §2 rosters, XEP-0237 roster versioning", &start_roster, 10,
            kRosterOptions);

}  // namespace tern::modules
