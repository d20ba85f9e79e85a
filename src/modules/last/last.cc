// XEP-0012 last activity.
#include "modules/last/last.h"

#include <chrono>
#include <mutex>
#include <unordered_map>
#include <variant>


#include "core/clock.h"
#include "core/log.h"
#include "modules/options.h"
#include "xml/serializer.h"
#include "xml/stream_parser.h"
#include "xmpp/namespaces.h"

namespace tern::modules {
namespace last {
namespace {
constexpr const char* kStoreNs = "urn:tern:last";  // our own record, never sent
constexpr const char* kDocumentKey = "last";
}  // namespace

std::string encode(const LastLogout& l) {
  xml::Element e("last", kStoreNs);
  e.set_attr("at", std::to_string(l.at));
  if (!l.status.empty()) e.add_text(l.status);
  return xml::to_string(e, ns::kClient);
}

std::optional<LastLogout> decode(std::string_view stored) {
  xml::ParserLimits limits;
  limits.max_stanza_bytes = stored.size() + 1024;
  xml::StreamParser parser(limits);
  std::string bytes =
      "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>";
  bytes += stored;
  parser.feed(bytes);
  auto open = parser.next();
  if (!open || !std::holds_alternative<xml::StreamOpen>(*open)) return std::nullopt;
  auto ev = parser.next();
  if (!ev || !std::holds_alternative<xml::StreamStanza>(*ev)) return std::nullopt;
  const auto& e = std::get<xml::StreamStanza>(*ev).element;
  if (e.name() != "last" || e.ns() != kStoreNs) return std::nullopt;
  LastLogout out;
  try {
    out.at = std::stoll(std::string(e.attr_or("at", "x")));
  } catch (const std::logic_error&) {
    return std::nullopt;
  }
  out.status = e.text();
  return out;
}

xml::Element query(std::int64_t seconds, std::string_view text) {
  xml::Element q("query", kNs);
  q.set_attr("seconds", std::to_string(seconds < 0 ? 0 : seconds));
  if (!text.empty()) q.add_text(text);
  return q;
}

}  // namespace last

namespace {

using router::IqReply;
using router::IqRequest;
using xmpp::StanzaCondition;
using xmpp::StanzaError;

struct LastState {
  LastState(Host h, storage::Storage& s, core::BlockingPool& b)
      : host(h), storage(s), blocking(b) {}
  Host host;
  storage::Storage& storage;
  core::BlockingPool& blocking;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  // Full JID → status of the unavailable presence it sent; read when its
  // session ends. Sessions of every shard write here, hence the lock.
  std::mutex mutex;
  std::unordered_map<std::string, std::string> going_status;
};
using State = std::shared_ptr<LastState>;

awaitable<IqReply> account_last(State st, const IqRequest& req) {
  const xmpp::Jid owner = req.to.bare();
  const storage::AccountKey key{owner.node(), owner.domain()};
  const std::string requester = req.from.bare_string();
  bool exists = false;
  bool allowed = req.from.bare() == owner;
  std::optional<std::string> stored;
  co_await st->blocking.run([&] {
    exists = st->storage.accounts().exists(key);
    if (!exists) return;
    if (!allowed) {
      // Only who may see the account's presence (RFC 6121 §3): a contact
      // with a 'from' or 'both' subscription in the account's roster.
      auto item = st->storage.roster().item(key, requester);
      allowed = item && (item->subscription == "from" || item->subscription == "both");
    }
    if (allowed) stored = st->storage.documents().get(key, last::kDocumentKey);
  });
  if (!exists) co_return IqReply::fail(StanzaError(StanzaCondition::kServiceUnavailable));
  if (!allowed) co_return IqReply::fail(StanzaError(StanzaCondition::kForbidden));
  for (const auto& s : st->host.sessions().sessions_of(owner))
    if (s->is_available()) co_return IqReply::result(last::query(0));
  std::optional<last::LastLogout> record;
  if (stored) record = last::decode(*stored);
  if (!record) co_return IqReply::fail(StanzaError(StanzaCondition::kServiceUnavailable));
  co_return IqReply::result(last::query(core::unix_now() - record->at, record->status));
}

awaitable<void> remember_logout(State st, xmpp::Jid owner, last::LastLogout logout) {
  const storage::AccountKey key{owner.node(), owner.domain()};
  const std::string text = last::encode(logout);
  try {
    // Not for an account just deleted (its sessions end after it is gone):
    // a later account of the same name must not inherit it.
    co_await st->blocking.run([&] {
      if (st->storage.accounts().exists(key)) st->storage.documents().put(key, last::kDocumentKey, text);
    });
  } catch (const std::exception& e) {
    spdlog::error("last: storing the logout of {} failed: {}", owner.bare_string(), e.what());
  }
}

}  // namespace

std::unique_ptr<Module> start_last(ModuleContext& ctx) {
  read_no_options("last", ctx.options);
  auto st = std::make_shared<LastState>(ctx.host, ctx.storage, ctx.blocking);
  auto m = std::make_unique<Module>();

  // XEP-0012 §4: to the server, the server's uptime.
  m->tokens.push_back(ctx.serve_iq_sync(
      {router::IqTarget::kServer, router::IqType::kGet, last::kNs, "query", Advertise::kOnServer},
      [st](const IqRequest&) {
        auto up = std::chrono::steady_clock::now() - st->started;
        return IqReply::result(
            last::query(std::chrono::duration_cast<std::chrono::seconds>(up).count()));
      }));
  m->tokens.push_back(ctx.serve_iq(
      {router::IqTarget::kAccount, router::IqType::kGet, last::kNs, "query", Advertise::kOnAccount},
      [st](const IqRequest& req) { return account_last(st, req); }));

  // The status of a session's unavailable presence, kept until it ends. Runs
  // before the presence module (higher priority) and lets it pass.
  m->tokens.push_back(ctx.hooks().presence_broadcast.add(
      [st](router::RoutedStanza& ev) {
        const auto type = ev.stanza.attr_or("type");
        if (type == "unavailable") {
          std::string status = ev.stanza.child_text("status");
          std::lock_guard lock(st->mutex);
          st->going_status[ev.from.to_string()] = std::move(status);
        } else if (type.empty()) {
          std::lock_guard lock(st->mutex);
          st->going_status.erase(ev.from.to_string());
        }
        return core::Verdict::kPass;
      },
      100));

  m->tokens.push_back(ctx.hooks().session_ended.add([st](router::SessionEvent& ev) {
    last::LastLogout logout{core::unix_now(), {}};
    {
      std::lock_guard lock(st->mutex);
      auto it = st->going_status.find(ev.session.jid().to_string());
      if (it != st->going_status.end()) {
        logout.status = std::move(it->second);
        st->going_status.erase(it);
      }
    }
    const xmpp::Jid owner = ev.session.jid().bare();
    // XEP-0012 §3: the time since the account was last connected at all.
    if (st->host.sessions().resource_count(owner) == 0)
      st->host.spawn(remember_logout(st, owner, std::move(logout)));
    return core::Verdict::kPass;
  }));
  return m;
}

TERN_MODULE("last", "XEP-0012 last activity", &start_last, 50);

}  // namespace tern::modules
