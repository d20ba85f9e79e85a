// XEP-0357 Push Notifications: the module. Registrations live in the
// account's document store under "push" (deleted with the account); a
// notification is a fire-and-forget iq from the account's bare JID whose
// reply is matched by id only to disable an app server that answers with an
// error (§6.1). Nothing is queued: see docs/push.md for what happens to a
// notification in flight on SIGTERM, kill -9 and a full disk.
#include "modules/push/push.h"

#include <chrono>
#include <deque>
#include <mutex>
#include <random>
#include <unordered_map>

#include "core/log.h"
#include "modules/options.h"

namespace tern::modules {
namespace {

using router::IqReply;
using router::IqRequest;
using xmpp::StanzaCondition;
using xmpp::StanzaError;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kDocumentKey = "push";
// A reply later than this is ignored (the app server is kept); the table
// of publishes awaiting a reply stays bounded whatever the app servers do.
constexpr auto kReplyWindow = std::chrono::minutes(2);
constexpr std::size_t kMaxAwaitingReply = 10000;

// A publish sent and not yet answered: where to look if the answer is an error.
struct AwaitingReply {
  std::string account;  // bare JID
  std::string app_server;
  std::string node;
  Clock::time_point sent;
};

struct PushOptions {
  bool include_body = false;
};
constexpr OptionField<PushOptions> kPushOptions[] = {
    option("include_body", &PushOptions::include_body,
           "Push notifications carry the message body to the app server (default: only a count "
           "and the sender)"),
};

struct PushState {
  PushState(const Host& h, storage::Storage& s, core::BlockingPool& b, bool body)
      : host(h), storage(s), blocking(b), include_body(body) {
    std::random_device rd;
    id_prefix = "push-" + std::to_string(rd()) + "-";
  }
  Host host;
  storage::Storage& storage;
  core::BlockingPool& blocking;
  const bool include_body;
  std::string id_prefix;  // random per run: a stale reply from before a restart matches nothing

  // Enable, disable and automatic disabling read, change and write one
  // document; shards and pool threads may do it at once for one account.
  std::mutex document_mutex;

  std::mutex awaiting_mutex;
  std::unordered_map<std::string, AwaitingReply> awaiting;  // by iq id
  std::deque<std::string> awaiting_order;                   // ids, oldest first
  std::uint64_t next_id = 0;                                // under awaiting_mutex

  // Pool threads only.
  std::vector<push::Registration> load(const storage::AccountKey& owner) {
    auto doc = storage.documents().get(owner, std::string(kDocumentKey));
    return doc ? push::from_document(*doc) : std::vector<push::Registration>{};
  }
  void save(const storage::AccountKey& owner, const std::vector<push::Registration>& list) {
    if (list.empty()) {
      storage.documents().remove(owner, std::string(kDocumentKey));
    } else {
      storage.documents().put(owner, std::string(kDocumentKey), push::to_document(list));
    }
  }

  // Notes a publish about to be sent and returns its id.
  std::string remember(const xmpp::Jid& account, const push::Registration& r) {
    std::lock_guard lock(awaiting_mutex);
    const auto now = Clock::now();
    while (!awaiting_order.empty()) {
      auto it = awaiting.find(awaiting_order.front());
      const bool stale = it == awaiting.end() || now - it->second.sent > kReplyWindow;
      if (!stale && awaiting.size() < kMaxAwaitingReply) break;
      if (it != awaiting.end()) awaiting.erase(it);
      awaiting_order.pop_front();
    }
    std::string id = id_prefix + std::to_string(++next_id);
    awaiting.emplace(id, AwaitingReply{account.bare_string(), r.jid, r.node, now});
    awaiting_order.push_back(id);
    return id;
  }

  // The publish a reply answers, if it is one of ours from the right JID.
  std::optional<AwaitingReply> take(std::string_view id, const xmpp::Jid& from) {
    std::lock_guard lock(awaiting_mutex);
    auto it = awaiting.find(std::string(id));
    if (it == awaiting.end() || it->second.app_server != from.to_string()) return std::nullopt;
    auto out = std::move(it->second);
    awaiting.erase(it);  // its id in awaiting_order goes when pruned
    return out;
  }
};
using State = std::shared_ptr<PushState>;

storage::AccountKey key_of(const xmpp::Jid& account) { return {account.node(), account.domain()}; }

awaitable<IqReply> enable_or_disable(State st, const IqRequest& req) {
  // Only the account itself manages where its notifications go.
  if (req.from.bare() != req.to)
    co_return IqReply::fail(StanzaError(StanzaCondition::kForbidden, "not your account"));
  const auto& payload = req.payload();
  const bool enable = payload.name() == "enable";  // or <disable/> (checked by serve_iq)
  auto parsed = enable ? push::parse_enable(payload) : push::parse_disable(payload);
  if (auto* err = std::get_if<StanzaError>(&parsed)) co_return IqReply::fail(std::move(*err));
  auto wanted = std::get<push::Registration>(std::move(parsed));
  const std::string app_server = wanted.jid, node = wanted.node;  // for the log; `wanted` moves
  const auto owner = key_of(req.to);
  bool full = false;
  auto job = st->blocking.run([&] {
    std::lock_guard lock(st->document_mutex);
    auto list = st->load(owner);
    if (enable) {
      full = !push::add_registration(list, std::move(wanted));
      if (full) return;
    } else if (push::remove_registrations(list, app_server, node) == 0) {
      return;  // disabling what is not enabled is not an error
    }
    st->save(owner, list);
  });
  co_await std::move(job);
  if (full)
    co_return IqReply::fail(StanzaError(StanzaCondition::kResourceConstraint,
                                        "at most " + std::to_string(push::kMaxRegistrations) +
                                            " push registrations per account"));
  spdlog::info("push: {} {} {} node '{}'", req.from.bare_string(), enable ? "enabled" : "disabled",
               app_server, node);
  co_return IqReply::result();
}

// Publishes one notification to every app server `account` registered.
// Runs on the shard that routed the message.
awaitable<void> publish(State st, xmpp::Jid account, push::Summary summary) {
  std::vector<push::Registration> list;
  try {
    const auto owner = key_of(account);
    auto job = st->blocking.run([&] { list = st->load(owner); });
    co_await std::move(job);
  } catch (const std::exception& e) {
    spdlog::error("push: reading the registrations of {} failed: {}", account.bare_string(), e.what());
    co_return;
  }
  for (const auto& r : list) {
    const std::string id = st->remember(account, r);
    st->host.route(push::build_publish(account, r, summary, id));
  }
}

awaitable<void> disable_after_error(State st, AwaitingReply failed) {
  auto account = xmpp::Jid::parse(failed.account);
  if (!account) co_return;
  const auto owner = key_of(*account);
  std::size_t removed = 0;
  try {
    auto job = st->blocking.run([&] {
      std::lock_guard lock(st->document_mutex);
      auto list = st->load(owner);
      removed = push::remove_registrations(list, failed.app_server, failed.node);
      if (removed) st->save(owner, list);
    });
    co_await std::move(job);
  } catch (const std::exception& e) {
    spdlog::error("push: disabling {} for {} failed: {}", failed.app_server, failed.account, e.what());
    co_return;
  }
  if (removed)
    spdlog::info("push: {} answered a notification of {} with an error; node '{}' disabled",
                 failed.app_server, failed.account, failed.node);
}

void notify(const State& st, const xml::Element& message, const xmpp::Jid& from, const xmpp::Jid& to) {
  if (!push::is_notable(message)) return;
  st->host.spawn(publish(st, to.bare(), push::summarize(message, from, st->include_body)));
}

}  // namespace

std::unique_ptr<Module> start_push(ModuleContext& ctx) {
  using router::IqTarget, router::IqType;
  const auto opts = read_options("push", ctx.options, kPushOptions);
  auto st = std::make_shared<PushState>(ctx.host, ctx.storage, ctx.blocking, opts.include_body);
  auto m = std::make_unique<Module>();

  m->tokens.push_back(ctx.serve_iq(
      {IqTarget::kAccount, IqType::kSet, push::kNs, "enable|disable", Advertise::kOnAccount},
      [st](const IqRequest& req) { return enable_or_disable(st, req); }));

  // No session takes the message (it goes to offline storage or is
  // bounced): the phone is asleep. Before offline storage, which ends the
  // chain.
  m->tokens.push_back(ctx.hooks().undelivered.add(
      [st](router::RoutedStanza& ev) {
        notify(st, ev.stanza, ev.from, ev.to);
        return core::Verdict::kPass;
      },
      10));

  // A session whose connection broke takes the message into its resumption
  // queue: its device is asleep too. One notification per message, however
  // many of the receivers hibernate.
  m->tokens.push_back(ctx.hooks().message_delivery.add([st](router::MessageDelivery& ev) {
    for (const auto& session : ev.receivers) {
      if (session->is_hibernating()) {
        notify(st, ev.stanza, ev.from, ev.to);
        break;
      }
    }
    return core::Verdict::kPass;
  }));

  m->tokens.push_back(ctx.hooks().iq_response.add([st](router::RoutedStanza& ev) {
    const auto id = ev.stanza.attr_or("id");
    if (!id.starts_with(st->id_prefix)) return core::Verdict::kPass;
    auto answered = st->take(id, ev.from);
    if (answered && ev.stanza.attr_or("type") == "error")
      st->host.spawn(disable_after_error(st, std::move(*answered)));
    return core::Verdict::kHandled;
  }));
  return m;
}

TERN_MODULE("push", "XEP-0357 Push Notifications", &start_push, 50, kPushOptions);

}  // namespace tern::modules
