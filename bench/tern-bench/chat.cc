// chat: pairs of sessions (2k, 2k+1) send each other one-to-one messages to
// full JIDs. The body starts with the sender's steady-clock time in ns, so
// the receiver measures the latency (sender and receiver share the clock:
// same machine, same process).
//
// Saturation: each session starts with --window messages and answers every
// message it receives with a new one, so 2 x window stay in flight per pair.
// Fixed rate: a pacer per worker spreads --rate messages/s over its sessions,
// waking when the next message is due (pacer.h).
#include <charconv>

#include "tern-bench/pacer.h"
#include "tern-bench/scenarios.h"
#include "xml/serializer.h"

namespace tern::bench {
namespace {

struct ChatPeer {
  Connection* conn = nullptr;
  std::string prefix;  // "<message type='chat' to='partner'><body>"
  bool ready = false;
};

struct ChatPlan {
  std::vector<ChatPeer> peers;              // by session index
  std::vector<std::vector<ChatPeer*>> mine;  // per worker: its ready senders
  std::string padding;                       // --body-bytes filler
  std::uint64_t per_worker_limit = 0;        // --count, split
  bool saturate = true;
};

void send_message(Worker& w, ChatPlan& plan, ChatPeer& p) {
  if (plan.per_worker_limit && w.stats.sent.get() >= plan.per_worker_limit) return;
  thread_local std::string buf;
  buf.assign(p.prefix);
  buf += std::to_string(now_ns());
  buf += plan.padding;
  buf += "</body></message>";
  p.conn->send(buf);
  w.stats.sent.add();
}

class ChatHandler : public SessionHandler {
 public:
  explicit ChatHandler(ChatPlan& plan) : plan_(plan) {}
  void on_stanza(Worker& w, Connection& c, const xml::Element& el) override {
    if (el.name() != "message") {
      w.stats.received_other.add();
      return;
    }
    if (el.attr_or("type") == "error") {
      w.stats.errors.add();
      return;
    }
    const xml::Element* body = el.child("body");
    if (!body) {
      w.stats.received_other.add();
      return;
    }
    std::string text = body->text();
    std::uint64_t sent_at = 0;
    std::from_chars(text.data(), text.data() + text.size(), sent_at);
    std::uint64_t now = now_ns();
    w.stats.received.add();
    if (sent_at && sent_at <= now) w.stats.message_latency.record(now - sent_at);
    if (plan_.saturate && w.sending) {
      ChatPeer& me = plan_.peers[c.tag()];
      if (me.ready) send_message(w, plan_, me);
    }
  }

 private:
  ChatPlan& plan_;
};

// Paced: the worker's share of --rate, round robin over its senders.
awaitable<void> chat_pacer(Worker& w, ChatPlan& plan, double rate) {
  std::vector<ChatPeer*>& mine = plan.mine[static_cast<std::size_t>(w.id)];
  if (mine.empty()) co_return;
  co_await pace(w, rate, 0, [&](std::uint64_t k) { send_message(w, plan, *mine[k % mine.size()]); });
}

}  // namespace

int run_chat(const Env& env) {
  const Options& o = env.opt;
  ChatPlan plan;
  ChatHandler handler(plan);
  Runner runner(env);
  auto threads = static_cast<std::int64_t>(runner.workers().size());
  std::int64_t n = 2 * o.pairs;
  plan.saturate = o.rate <= 0;
  plan.per_worker_limit = o.count ? static_cast<std::uint64_t>((o.count + threads - 1) / threads) : 0;
  if (o.body_bytes > 0) plan.padding = " " + std::string(static_cast<std::size_t>(o.body_bytes), 'x');
  plan.peers.resize(static_cast<std::size_t>(n));
  plan.mine.resize(static_cast<std::size_t>(threads));

  double cpu0 = process_cpu_seconds();
  auto t0 = Clock::now();
  runner.start();
  runner.open_sessions(n, handler);
  bool complete = runner.wait_online(n);
  double connect_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  runner.on_each([](Worker&) {});  // the sessions' JIDs are visible here from now on

  std::int64_t ready_pairs = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    Connection& me = runner.session(i);
    Connection& partner = runner.session(i ^ 1);
    ChatPeer& p = plan.peers[static_cast<std::size_t>(i)];
    p.conn = &me;
    p.ready = me.is_open() && partner.is_open() && !partner.jid().empty();
    if (!p.ready) continue;
    if (i % 2 == 0) ++ready_pairs;
    p.prefix = "<message type='chat' to='";
    xml::append_escaped_attr(p.prefix, partner.jid());
    p.prefix += "'><body>";
    plan.mine[static_cast<std::size_t>(i % threads)].push_back(&p);
  }
  runner.progress("%lld pairs ready in %.2f s; %s for %.0f s", (long long)ready_pairs,
                  connect_seconds, plan.saturate ? "saturating" : "paced", o.duration);

  double cpu_start = process_cpu_seconds();
  double server_cpu_start = read_cpu_seconds(o.server_pid);
  auto start = Clock::now();
  runner.on_each([&](Worker& w) {
    w.sending = true;
    std::size_t total = static_cast<std::size_t>(n);
    if (plan.saturate) {
      for (ChatPeer* p : plan.mine[static_cast<std::size_t>(w.id)])
        for (int k = 0; k < o.window; ++k) send_message(w, plan, *p);
    } else {
      double share = double(plan.mine[static_cast<std::size_t>(w.id)].size()) /
                     double(std::max<std::size_t>(total, 1));
      spawn(w, chat_pacer(w, plan, o.rate * share));
    }
  });
  auto end = start + std::chrono::duration_cast<Clock::duration>(
                         std::chrono::duration<double>(o.duration));
  auto last = Clock::now();
  Totals before = runner.live_totals();
  if (complete)
    complete = runner.sleep_until(end, [&] {
      Totals t = runner.live_totals();
      if (Clock::now() - last >= std::chrono::seconds(1)) {
        last = Clock::now();
        runner.progress("sent %llu, received %llu", (unsigned long long)t.sent,
                        (unsigned long long)t.received);
      }
      return o.count && t.sent >= static_cast<std::uint64_t>(o.count);
    });
  runner.on_each([](Worker& w) { w.sending = false; });
  double window = std::chrono::duration<double>(Clock::now() - start).count();
  double cpu_window = process_cpu_seconds() - cpu_start;
  double server_cpu_window = read_cpu_seconds(o.server_pid) - server_cpu_start;
  Totals at_end = runner.live_totals();
  std::uint64_t in_window = at_end.received - before.received;

  // Drain: whatever was sent should arrive.
  runner.sleep_until(Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                        std::chrono::duration<double>(o.drain_seconds)),
                     [&] {
                       Totals t = runner.live_totals();
                       return t.received + t.errors >= t.sent;
                     });
  runner.stop();
  double wall = std::chrono::duration<double>(Clock::now() - t0).count();
  Totals t = runner.totals();
  std::int64_t lost = static_cast<std::int64_t>(t.sent) - static_cast<std::int64_t>(t.received);

  Report r("chat");
  r.add_int("pairs", o.pairs, "pairs asked");
  r.add_int("pairs_ready", ready_pairs, "pairs online");
  r.add_text("mode", plan.saturate ? "saturation" : "rate", "mode");
  if (plan.saturate)
    r.add_int("window", o.window, "window per sender");
  else
    r.add("offered_rate", o.rate, "offered", "msg/s");
  r.add("connect_seconds", connect_seconds, "time to connect all", "s");
  r.add("duration_seconds", window, "measured", "s");
  r.add_int("sent", static_cast<std::int64_t>(t.sent), "messages sent");
  r.add_int("received", static_cast<std::int64_t>(t.received), "messages received");
  r.add("delivered_per_second", window > 0 ? double(in_window) / window : 0, "delivered",
        "msg/s");
  r.add_int("lost", lost, "lost (sent - received after drain)");
  r.add_int("errors", static_cast<std::int64_t>(t.errors), "error replies");
  r.add_latency("latency", t.message_latency, "latency");
  r.add("cpu_window_seconds", cpu_window, "generator CPU in window", "s");
  r.add("cpu_us_per_message",
        in_window ? cpu_window * 1e6 / double(in_window) : 0, "generator CPU per message", "us");
  if (o.server_pid > 0) {
    r.add("server_cpu_window_seconds", server_cpu_window, "server CPU in window", "s");
    r.add("server_cpu_us_per_message",
          in_window ? server_cpu_window * 1e6 / double(in_window) : 0, "server CPU per message",
          "us");
  }
  r.add_int("failed", static_cast<std::int64_t>(t.failed), "sessions failed");
  r.add_int("dropped", static_cast<std::int64_t>(t.dropped), "sessions dropped");
  add_common_rows(r, runner, t, process_cpu_seconds() - cpu0, wall);
  r.print();
  return complete && t.failed == 0 && lost == 0 ? 0 : 1;
}

}  // namespace tern::bench
