// What the presence and pep scenarios share: --users online sessions make
// --rate changes/s in total (a presence change, a PEP publish), and every
// copy a session receives from another account is a delivery. The
// scenario says what a change is and which stanzas count.
#include "tern-bench/fanout.h"
#include "tern-bench/pacer.h"

namespace tern::bench {
namespace {

// Sends --rate changes/s in total, round robin over this worker's sessions.
awaitable<void> change_pacer(Worker& w, std::vector<Connection*>& mine, double rate,
                             std::uint64_t limit, const FanoutScenario::SendChange& send_change) {
  if (mine.empty()) co_return;
  co_await pace(w, rate, limit, [&](std::uint64_t k) {
    std::size_t i = k % mine.size();
    if (!mine[i]->is_open()) return;
    send_change(*mine[i], k / mine.size(), k);
    w.stats.sent.add();
  });
}

}  // namespace

int run_fanout(const Env& env, const FanoutScenario& s) {
  const Options& o = env.opt;
  std::vector<std::vector<Connection*>> mine;
  Runner runner(env);
  auto threads = static_cast<std::int64_t>(runner.workers().size());
  std::int64_t n = o.users > 0 ? o.users : 100;
  double rate = o.rate > 0 ? o.rate : double(n);  // default: one change per user per second
  std::uint64_t limit = o.count ? static_cast<std::uint64_t>((o.count + threads - 1) / threads) : 0;
  mine.resize(static_cast<std::size_t>(threads));

  double cpu0 = process_cpu_seconds();
  auto t0 = Clock::now();
  runner.start();
  // open_sessions() cycles users modulo --users: here the session count is
  // the user count, so each session is its own account.
  runner.open_sessions(n, s.handler);
  bool complete = runner.wait_online(n);
  double connect_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  runner.on_each([](Worker&) {});
  for (std::int64_t i = 0; i < n; ++i)
    if (runner.session(i).is_open())
      mine[static_cast<std::size_t>(i % threads)].push_back(&runner.session(i));
  // Initial presences and probes settle before measuring: a slow server is
  // still delivering them well after the last login. Wait until none has
  // arrived for half a second (at most 10 s).
  std::uint64_t seen = runner.live_totals().received;
  auto quiet_since = Clock::now();
  runner.sleep_until(Clock::now() + std::chrono::seconds(10), [&] {
    std::uint64_t now_seen = runner.live_totals().received;
    if (now_seen != seen) {
      seen = now_seen;
      quiet_since = Clock::now();
    }
    return Clock::now() - quiet_since >= std::chrono::milliseconds(500);
  });

  Totals before = runner.live_totals();
  double cpu_start = process_cpu_seconds();
  double server_cpu_start = read_cpu_seconds(o.server_pid);
  auto start = Clock::now();
  runner.on_each([&](Worker& w) {
    w.sending = true;
    auto& list = mine[static_cast<std::size_t>(w.id)];
    spawn(w, change_pacer(w, list, rate * double(list.size()) / double(n), limit, s.send_change));
  });
  auto end = start + std::chrono::duration_cast<Clock::duration>(
                         std::chrono::duration<double>(o.duration));
  auto last = Clock::now();
  if (complete)
    complete = runner.sleep_until(end, [&] {
      Totals t = runner.live_totals();
      if (Clock::now() - last >= std::chrono::seconds(1)) {
        last = Clock::now();
        runner.progress("%s %llu, %s %llu", s.changes_key, (unsigned long long)t.sent, s.received,
                        (unsigned long long)(t.received - before.received));
      }
      return o.count && t.sent >= static_cast<std::uint64_t>(o.count);
    });
  runner.on_each([](Worker& w) { w.sending = false; });
  double window = std::chrono::duration<double>(Clock::now() - start).count();
  double cpu_window = process_cpu_seconds() - cpu_start;
  double server_cpu_window = read_cpu_seconds(o.server_pid) - server_cpu_start;
  Totals at_end = runner.live_totals();
  runner.stop();
  double wall = std::chrono::duration<double>(Clock::now() - t0).count();
  Totals t = runner.totals();
  std::uint64_t changes = at_end.sent - before.sent;
  std::uint64_t deliveries = at_end.received - before.received;

  Report r(s.name);
  r.add_int("users", n, "users");
  r.add_int("online", static_cast<std::int64_t>(t.online), "online");
  r.add("connect_seconds", connect_seconds, "time to connect all", "s");
  r.add("offered_rate", rate, std::string(s.changes) + " offered", "/s");
  r.add("duration_seconds", window, "measured", "s");
  r.add_int(s.changes_key, static_cast<std::int64_t>(changes), std::string(s.changes) + " sent");
  r.add_int("deliveries", static_cast<std::int64_t>(deliveries), s.received);
  r.add("deliveries_per_second", window > 0 ? double(deliveries) / window : 0,
        s.received, "/s");
  if (o.contacts > 0)
    r.add_int("expected_deliveries", static_cast<std::int64_t>(changes) * o.contacts,
              std::string("expected (") + s.changes_key + " x contacts)");
  r.add_int("errors", static_cast<std::int64_t>(t.errors), "error replies");
  r.add("cpu_window_seconds", cpu_window, "generator CPU in window", "s");
  if (o.server_pid > 0) {
    r.add("server_cpu_window_seconds", server_cpu_window, "server CPU in window", "s");
    r.add("server_cpu_us_per_delivery",
          deliveries ? server_cpu_window * 1e6 / double(deliveries) : 0,
          "server CPU per delivery", "us");
  }
  r.add_int("failed", static_cast<std::int64_t>(t.failed), "sessions failed");
  r.add_int("dropped", static_cast<std::int64_t>(t.dropped), "sessions dropped");
  add_common_rows(r, runner, t, process_cpu_seconds() - cpu0, wall);
  r.print();
  return complete && t.failed == 0 ? 0 : 1;
}

}  // namespace tern::bench
