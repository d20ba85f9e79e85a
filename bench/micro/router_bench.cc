// Routing a chat message between two local sessions on one shard: parse
// 'from' and 'to', run the (empty) pre-route hooks, look the target up in
// the session registry and call its deliver() — no thread hop.
//
// Router::route must run on a shard: off the shards, Shards::current() is -1
// and deliver() would post to the session's loop, so the measurement would be
// of a post to another thread. Each benchmark therefore runs its whole timing
// loop inside a function posted to the one shard, and the benchmark thread
// only waits for it. Timer start and stop both happen on the shard thread,
// so the CPU time reported is the shard's.
//
// route() consumes its stanza. The copies it consumes are made in batches
// with the timer paused; BM_CopyChatElement (xml_bench.cc) says what a copy
// would have added.
#include <benchmark/benchmark.h>

#include <functional>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/asio.h"
#include "core/shards.h"
#include "router/router.h"
#include "router/session.h"
#include "router/session_registry.h"
#include "xml/serializer.h"
#include "xml/stream_parser.h"
#include "xmpp/jid.h"

namespace {

using tern::router::Router;
using tern::router::SessionPtr;
using tern::router::SessionRegistry;
using tern::xml::Element;
using tern::xmpp::Jid;

constexpr std::string_view kDomain = "example.com";
constexpr int kBatch = 1024;

// A session that only counts what it is handed, or, like a c2s connection,
// also writes it into its output buffer. Touched on its shard only.
class BenchSession final : public tern::router::Session {
 public:
  BenchSession(const Jid& jid, bool serialize) : Session(0), serialize_(serialize) { set_jid(jid); }
  void deliver(const Element& stanza) override {
    ++delivered_;
    if (serialize_) {
      out_.clear();
      tern::xml::serialize(out_, stanza, "jabber:client");
      benchmark::DoNotOptimize(out_.data());
    }
  }
  void deliver_serialized(const tern::router::SerializedStanza& stanza) override {
    ++delivered_;
    if (serialize_) {
      out_.assign(*stanza);
      benchmark::DoNotOptimize(out_.data());
    }
  }
  void close_with_error(tern::xmpp::StreamCondition, std::string_view) override {}
  long delivered() const { return delivered_; }

 private:
  bool serialize_;
  long delivered_ = 0;
  std::string out_;
};

std::shared_ptr<BenchSession> make_session(std::string_view full_jid, int priority,
                                           bool serialize = false) {
  auto jid = Jid::parse(full_jid);
  if (!jid) throw std::invalid_argument("bad benchmark JID");
  auto s = std::make_shared<BenchSession>(*jid, serialize);
  s->set_presence(true, priority);
  return s;
}

// As a client sends it, parsed by the real stream parser, 'from' stamped.
Element parse_stanza(std::string_view text) {
  tern::xml::StreamParser parser;
  parser.feed(
      "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>");
  parser.feed(text);
  parser.next();
  auto ev = parser.next();
  if (!ev || !std::holds_alternative<tern::xml::StreamStanza>(*ev))
    throw std::invalid_argument("benchmark stanza does not parse");
  return std::move(std::get<tern::xml::StreamStanza>(*ev).element);
}

// One shard running, one Router on it, and `other_accounts` bystander
// accounts bound so the registry is not trivially small.
struct Server {
  explicit Server(int other_accounts)
      : shards(1), router(shards, {std::string(kDomain)}, [](const Jid&) -> tern::awaitable<bool> {
          co_return true;
        }) {
    for (int i = 0; i < other_accounts; ++i)
      router.sessions().bind(make_session("user" + std::to_string(i) + "@example.com/r", 0));
    shards.start();
  }
  ~Server() { shards.stop(); }  // before the router goes

  // Runs `f` on the shard and waits for it.
  void run_on_shard(const std::function<void()>& f) {
    std::promise<void> done;
    tern::asio::post(shards.loop(0), [&] {
      try {
        f();
        done.set_value();
      } catch (...) {
        done.set_exception(std::current_exception());
      }
    });
    done.get_future().get();
  }

  tern::core::Shards shards;
  Router router;
};

// Routes copies of `stanza` on the shard until the benchmark has enough
// iterations; `target` must have received every one.
void route_loop(benchmark::State& state, Server& server, const Element& stanza,
                const BenchSession& target) {
  server.run_on_shard([&] {
    if (tern::core::Shards::current() != 0) {
      state.SkipWithError("not on the shard");
      return;
    }
    const long before = target.delivered();
    std::vector<Element> batch;
    batch.reserve(kBatch);
    while (state.KeepRunningBatch(kBatch)) {
      state.PauseTiming();
      batch.assign(kBatch, stanza);
      state.ResumeTiming();
      for (auto& el : batch) server.router.route(std::move(el));
    }
    if (target.delivered() - before != state.iterations())
      state.SkipWithError("the target did not receive every message");
  });
  state.counters["bound_sessions"] = static_cast<double>(server.router.sessions().size());
}

// Juliet's chat message to Romeo's full JID, both on the same shard.
void BM_RouteChatToFullJid(benchmark::State& state) {
  Server server(static_cast<int>(state.range(0)));
  auto juliet = make_session("juliet@example.com/balcony", 0);
  auto romeo = make_session("romeo@example.com/orchard", 0);
  server.router.sessions().bind(juliet);
  server.router.sessions().bind(romeo);
  const Element msg = parse_stanza(
      "<message from='juliet@example.com/balcony' to='romeo@example.com/orchard' type='chat' "
      "id='ktx72v49'><body>Art thou not Romeo, and a Montague?</body>"
      "<active xmlns='http://jabber.org/protocol/chatstates'/></message>");
  route_loop(state, server, msg, *romeo);
}
BENCHMARK(BM_RouteChatToFullJid)->Arg(0)->Arg(10000);

// The same with the target writing the stanza out as a c2s session would
// (into its reused output buffer): the hot path short of the socket.
void BM_RouteChatToFullJidAndSerialize(benchmark::State& state) {
  Server server(static_cast<int>(state.range(0)));
  auto juliet = make_session("juliet@example.com/balcony", 0);
  auto romeo = make_session("romeo@example.com/orchard", 0, /*serialize=*/true);
  server.router.sessions().bind(juliet);
  server.router.sessions().bind(romeo);
  const Element msg = parse_stanza(
      "<message from='juliet@example.com/balcony' to='romeo@example.com/orchard' type='chat' "
      "id='ktx72v49'><body>Art thou not Romeo, and a Montague?</body>"
      "<active xmlns='http://jabber.org/protocol/chatstates'/></message>");
  route_loop(state, server, msg, *romeo);
}
BENCHMARK(BM_RouteChatToFullJidAndSerialize)->Arg(0)->Arg(10000);

// To Romeo's bare JID while he has three available resources of priorities
// 1, 5 and 0: the router picks the priority-5 one (RFC 6121 §8.5.2.1.1).
void BM_RouteChatToBareJid3Resources(benchmark::State& state) {
  Server server(static_cast<int>(state.range(0)));
  auto juliet = make_session("juliet@example.com/balcony", 0);
  auto phone = make_session("romeo@example.com/phone", 1);
  auto desktop = make_session("romeo@example.com/desktop", 5);
  auto laptop = make_session("romeo@example.com/laptop", 0);
  for (const SessionPtr& s :
       {SessionPtr(juliet), SessionPtr(phone), SessionPtr(desktop), SessionPtr(laptop)})
    server.router.sessions().bind(s);
  const Element msg = parse_stanza(
      "<message from='juliet@example.com/balcony' to='romeo@example.com' type='chat' "
      "id='ktx72v49'><body>Art thou not Romeo, and a Montague?</body>"
      "<active xmlns='http://jabber.org/protocol/chatstates'/></message>");
  route_loop(state, server, msg, *desktop);
  if (phone->delivered() != 0 || laptop->delivered() != 0)
    state.SkipWithError("a lower-priority resource received the message");
}
BENCHMARK(BM_RouteChatToBareJid3Resources)->Arg(0)->Arg(10000);

// SessionRegistry::find for a bound full JID, among `range(0)` other
// accounts (one resource each); and for a resource that is not bound.
void run_find(benchmark::State& state, std::string_view wanted, bool expect_found) {
  SessionRegistry registry;
  for (int i = 0; i < state.range(0); ++i)
    registry.bind(make_session("user" + std::to_string(i) + "@example.com/r", 0));
  registry.bind(make_session("romeo@example.com/orchard", 0));
  registry.bind(make_session("romeo@example.com/phone", 0));
  const Jid jid = *Jid::parse(wanted);
  for (auto _ : state) {
    SessionPtr found = registry.find(jid);
    if ((found != nullptr) != expect_found) {
      state.SkipWithError("find gave the wrong answer");
      break;
    }
    benchmark::DoNotOptimize(found);
  }
}
void BM_RegistryFind(benchmark::State& state) {
  run_find(state, "romeo@example.com/orchard", true);
}
void BM_RegistryFind_Miss(benchmark::State& state) {
  run_find(state, "romeo@example.com/garden", false);
}
BENCHMARK(BM_RegistryFind)->Arg(0)->Arg(10000);
BENCHMARK(BM_RegistryFind_Miss)->Arg(0)->Arg(10000);

}  // namespace
