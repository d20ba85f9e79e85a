// XEP-0160 offline messages with XEP-0203 delay.
#include "modules/offline/offline.h"
#include "xml/parse_element.h"

#include <chrono>
#include <ctime>
#include <deque>
#include <mutex>
#include <unordered_map>
#include <variant>


#include "core/log.h"
#include "modules/options.h"
#include "xml/serializer.h"
#include "xml/stream_parser.h"
#include "xmpp/datetime.h"
#include "xmpp/namespaces.h"

namespace tern::modules {
namespace offline {

Disposition classify(const xml::Element& message) {
  const auto type = message.attr_or("type");
  if (!type.empty() && type != "chat" && type != "normal") return Disposition::kNotOurs;
  if (message.child("no-store", kHintsNs)) return Disposition::kNotOurs;
  if (message.child("body")) return Disposition::kStore;
  // XEP-0160 §3: a message with nothing but chat states is not worth storing.
  for (const auto* child : message.children())
    if (child->ns() != kChatStatesNs && child->name() != "thread") return Disposition::kStore;
  return Disposition::kDiscard;
}



}  // namespace offline

namespace {

using xmpp::StanzaCondition;
using xmpp::StanzaError;

// One step of an account's offline queue: store a message, or hand every
// stored one to a session that just became available.
struct StoreOp {
  xml::Element message;
  xmpp::Jid sender;
  // Held until the message is stored or bounced: the sender's stream
  // management counts it as handled only then (Session::hold_handled).
  std::shared_ptr<void> handled_ticket;
};
struct FlushOp {
  router::SessionPtr session;
};
using Op = std::variant<StoreOp, FlushOp>;

struct OfflineOptions {
  std::size_t max_messages = 500;
};
constexpr OptionField<OfflineOptions> kOfflineOptions[] = {
    option("max_messages", &OfflineOptions::max_messages, 0, 1000000,
           "Messages kept for one account while it is offline; more are bounced to their sender "
           "(0: none are kept)"),
};

// The steps of one account run one at a time, in arrival order, so that
// messages are stored (and the quota checked) in the order they came, and a
// flush sees every message stored before it.
struct OfflineState {
  OfflineState(Host h, storage::Storage& s, core::BlockingPool& b, std::size_t max)
      : host(h), storage(s), blocking(b), max_messages(max) {}
  Host host;
  storage::Storage& storage;
  core::BlockingPool& blocking;
  std::size_t max_messages;
  std::mutex mutex;
  std::unordered_map<std::string, std::deque<Op>> queues;  // bare JID → pending steps
  // When each full account was last logged: a sender flooding one (or a
  // session ending with thousands unacknowledged) gets a line a minute,
  // not one per bounced message.
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> full_logged;

  bool should_log_full(const std::string& bare) {
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(mutex);
    // Bounded: forgetting costs at most one more line per account.
    if (full_logged.size() >= 10'000) full_logged.clear();
    auto [it, first] = full_logged.try_emplace(bare, now);
    if (!first && now - it->second < std::chrono::minutes(1)) return false;
    it->second = now;
    return true;
  }
};
using State = std::shared_ptr<OfflineState>;

// Runs `f` on a shard (the router wants to be called from one): the shard of
// a session of `near`. Sync hooks cannot co_await, so their storage work runs
// as a detached coroutine on Asio's system executor, off the shards, and
// comes back here for anything that routes.
void run_near(const Host& host, const xmpp::Jid& near, std::function<void()> f) {
  router::SessionPtr session;
  if (near.is_full()) session = host.sessions().find(near);
  if (!session) {
    auto all = host.sessions().sessions_of(near.bare());
    if (!all.empty()) session = all.front();
  }
  if (session) {
    host.on_shard_of(session, [f = std::move(f)](router::Session&) { f(); });
  } else {
    // No session to borrow a shard from (a sender that left, or the server
    // itself): route from here; the router posts deliveries to their shards.
    f();
  }
}

awaitable<void> store(State st, xmpp::Jid owner, StoreOp op) {
  const storage::AccountKey key{owner.node(), owner.domain()};
  xmpp::add_delay(op.message, owner.domain(), std::chrono::system_clock::now());
  const std::string text = xml::to_string(op.message, ns::kClient);
  bool full = false, stored = false;
  try {
    co_await st->blocking.run([&] {
      if (!st->storage.accounts().exists(key)) return;
      full = st->storage.offline().count(key) >= st->max_messages;
      if (full) return;
      st->storage.offline().push(key, text);
      stored = true;
    });
  } catch (const std::exception& e) {
    spdlog::error("offline: storing a message for {} failed: {}", owner.bare_string(), e.what());
  }
  if (stored) co_return;
  // Only a full store is worth this line: a storage failure was logged above.
  if (full && st->should_log_full(owner.bare_string()))
    spdlog::info("offline: {} has {} stored messages; bouncing more (logged once a minute)",
                 owner.bare_string(), st->max_messages);
  // Missing account, full store or broken storage: the sender learns it was
  // not delivered. The bounce goes without our <delay/>.
  op.message.remove_child("delay", xmpp::kDelayNs);
  run_near(st->host, op.sender, [st, message = std::move(op.message)] {
    st->host.bounce(message, StanzaError(StanzaCondition::kServiceUnavailable));
  });
}

awaitable<void> flush(State st, xmpp::Jid owner, FlushOp op) {
  const storage::AccountKey key{owner.node(), owner.domain()};
  std::vector<std::string> stored;
  try {
    stored = co_await st->blocking.run([&] { return st->storage.offline().pop_all(key); });
  } catch (const std::exception& e) {
    spdlog::error("offline: reading messages of {} failed: {}", owner.bare_string(), e.what());
    co_return;
  }
  if (stored.empty()) co_return;
  if (st->host.sessions().find(op.session->jid()) != op.session) {
    // The session went away meanwhile: keep the messages for the next one.
    try {
      co_await st->blocking.run([&] {
        for (const auto& text : stored) st->storage.offline().push(key, text);
      });
    } catch (const std::exception& e) {
      spdlog::error("offline: restoring messages of {} failed: {}", owner.bare_string(), e.what());
    }
    co_return;
  }
  for (const auto& text : stored) {
    auto message = xml::parse_element(text, ns::kClient);
    if (!message) {
      spdlog::error("offline: a stored message of {} does not parse; dropped", owner.bare_string());
      continue;
    }
    st->host.deliver(op.session, std::move(*message));
  }
}

// Drains the queue of `owner` until it is empty, then forgets it.
awaitable<void> drain(State st, std::string owner_key, xmpp::Jid owner) {
  for (;;) {
    std::optional<Op> op;
    {
      std::lock_guard lock(st->mutex);
      auto it = st->queues.find(owner_key);
      if (it->second.empty()) {
        st->queues.erase(it);
        co_return;
      }
      op = std::move(it->second.front());
      it->second.pop_front();
    }
    if (auto* s = std::get_if<StoreOp>(&*op)) {
      co_await store(st, owner, std::move(*s));
    } else {
      co_await flush(st, owner, std::move(std::get<FlushOp>(*op)));
    }
  }
}

void enqueue(const State& st, const xmpp::Jid& owner, Op op) {
  std::string owner_key = owner.bare_string();
  bool start = false;
  {
    std::lock_guard lock(st->mutex);
    auto [it, inserted] = st->queues.try_emplace(owner_key);
    it->second.push_back(std::move(op));
    start = inserted;
  }
  if (start)
    st->host.spawn(drain(st, std::move(owner_key), owner.bare()));
}

}  // namespace

std::unique_ptr<Module> start_offline(ModuleContext& ctx) {
  const auto opts = read_options("offline", ctx.options, kOfflineOptions);
  auto st = std::make_shared<OfflineState>(ctx.host, ctx.storage, ctx.blocking, opts.max_messages);
  auto m = std::make_unique<Module>();

  m->tokens.push_back(ctx.hooks().undelivered.add([st](router::RoutedStanza& ev) {
    switch (offline::classify(ev.stanza)) {
      case offline::Disposition::kNotOurs:
        return core::Verdict::kPass;
      case offline::Disposition::kDiscard:
        return core::Verdict::kHandled;
      case offline::Disposition::kStore:
        break;
    }
    std::shared_ptr<void> ticket;
    if (auto sender = st->host.sessions().find(ev.from)) ticket = sender->hold_handled();
    enqueue(st, ev.to, StoreOp{std::move(ev.stanza), ev.from, std::move(ticket)});
    return core::Verdict::kHandled;
  }));

  // RFC 6121 §8.5.2.1.1 / XEP-0160 §3: stored messages go to the first
  // resource that becomes available with a non-negative priority.
  m->tokens.push_back(ctx.hooks().initial_presence.add([st](router::SessionEvent& ev) {
    if (ev.session.priority() < 0) return core::Verdict::kPass;
    enqueue(st, ev.session.jid().bare(), FlushOp{ev.session.shared_from_this()});
    return core::Verdict::kPass;
  }));

  ctx.features.disco_features.push_back("msgoffline");
  return m;
}

TERN_MODULE("offline", "XEP-0160 offline messages with XEP-0203 delay", &start_offline, 30,
            kOfflineOptions);

}  // namespace tern::modules
