// reconnect: the storm after a network outage. --sessions sessions log in
// (STARTTLS + SASL + bind + roster + presence, at most
// --connect-concurrency at a time), settle, and then every connection is
// cut at once: the sockets are closed without </stream:stream> or a TLS
// close_notify, as the client sees a dead network. Then every client
// reconnects at the same moment, with no limit on logins in flight, and
// (with --tls-resume) with the TLS session ticket of its first login.
// Reports the time until each client is back (p50/p99/max), until all are
// back, failures, and the server's CPU per reconnect.
#include "tern-bench/scenarios.h"

namespace tern::bench {
namespace {

class IdleHandler : public SessionHandler {
 public:
  void on_stanza(Worker& w, Connection&, const xml::Element&) override {
    w.stats.received_other.add();
  }
};

// One worker's part of the storm: written on its thread, read after stop.
struct StormLane {
  Histogram back;          // storm start .. this client online again
  Counter reconnected;     // clients back online
  Counter failed;          // reconnects that failed
  std::uint64_t last_back_ns = 0;  // the latest time one came back
};

awaitable<void> reconnect_one(Worker& w, Connection& c, StormLane& lane, SessionHandler& handler,
                              std::uint64_t storm_start_ns) {
  c.reset(c.user_index());
  bool ok = co_await c.establish(true);
  if (!ok) {
    lane.failed.add();
    co_return;
  }
  std::uint64_t now = now_ns();
  lane.back.record(now - storm_start_ns);
  lane.last_back_ns = std::max(lane.last_back_ns, now);
  lane.reconnected.add();
  co_await receive_loop(w, c, handler);
}

}  // namespace

int run_reconnect(const Env& env) {
  const Options& o = env.opt;
  IdleHandler handler;
  Runner runner(env);
  auto threads = static_cast<std::size_t>(runner.workers().size());
  std::vector<StormLane> lanes(threads);
  std::int64_t n = o.sessions;

  double cpu0 = process_cpu_seconds();
  auto t0 = Clock::now();
  runner.start();
  runner.open_sessions(n, handler);
  bool complete = runner.wait_online(n);
  double connect_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  Totals first = runner.live_totals();
  runner.progress("%llu online, %llu failed in %.2f s; settling %.1f s",
                  (unsigned long long)first.online, (unsigned long long)first.failed,
                  connect_seconds, o.settle_seconds);
  // The server finishes the logins' roster and presence work first.
  if (complete)
    complete = runner.sleep_until(Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                                     std::chrono::duration<double>(o.settle_seconds)));

  // The outage: every online connection cut in one turn of each worker.
  std::vector<std::vector<Connection*>> cut(threads);
  runner.on_each([&](Worker& w) {
    for (auto& c : w.connections)
      if (c->is_open()) {
        c->cut();
        cut[static_cast<std::size_t>(w.id)].push_back(c.get());
      }
  });
  std::size_t cut_count = 0;
  for (const auto& v : cut) cut_count += v.size();
  Totals before = runner.live_totals();
  double cpu_start = process_cpu_seconds();
  double server_cpu_start = read_cpu_seconds(o.server_pid);
  // A second turn: the cut connections' receive loops have ended (their
  // aborted waits ran before this), so the objects can connect again.
  std::uint64_t storm_start_ns = now_ns();
  auto storm_start = Clock::now();
  runner.on_each([&](Worker& w) {
    StormLane& lane = lanes[static_cast<std::size_t>(w.id)];
    for (Connection* c : cut[static_cast<std::size_t>(w.id)])
      spawn(w, reconnect_one(w, *c, lane, handler, storm_start_ns));
  });
  runner.progress("cut %zu connections; all reconnecting", cut_count);
  auto last = Clock::now();
  auto settled = [&] {
    std::uint64_t done = 0;
    for (const auto& l : lanes) done += l.reconnected.get() + l.failed.get();
    if (Clock::now() - last >= std::chrono::seconds(1)) {
      last = Clock::now();
      runner.progress("back %llu/%zu", (unsigned long long)done, cut_count);
    }
    return done >= cut_count;
  };
  if (complete)
    complete = runner.sleep_until(
        Clock::now() + std::chrono::duration_cast<Clock::duration>(
                           std::chrono::duration<double>(o.login_timeout + 5)),
        settled);
  double storm_wall = std::chrono::duration<double>(Clock::now() - storm_start).count();
  double cpu_storm = process_cpu_seconds() - cpu_start;
  double server_cpu_storm = read_cpu_seconds(o.server_pid) - server_cpu_start;
  Totals after = runner.live_totals();
  runner.stop();
  double wall = std::chrono::duration<double>(Clock::now() - t0).count();
  Totals t = runner.totals();

  Histogram back;
  std::uint64_t reconnected = 0, storm_failed = 0, last_back = 0;
  for (const auto& l : lanes) {
    back.merge(l.back);
    reconnected += l.reconnected.get();
    storm_failed += l.failed.get();
    last_back = std::max(last_back, l.last_back_ns);
  }
  double all_back_seconds =
      last_back > storm_start_ns ? double(last_back - storm_start_ns) / 1e9 : 0;

  Report r("reconnect");
  r.add_int("sessions", n, "sessions asked");
  r.add_int("online_before", static_cast<std::int64_t>(first.online), "online before the cut");
  r.add_int("failed_before", static_cast<std::int64_t>(first.failed), "failed before the cut");
  r.add("connect_seconds", connect_seconds, "time to connect all (paced)", "s");
  r.add_int("cut", static_cast<std::int64_t>(cut_count), "connections cut");
  r.add_int("reconnected", static_cast<std::int64_t>(reconnected), "clients back online");
  r.add_int("reconnect_failed", static_cast<std::int64_t>(storm_failed), "reconnects failed");
  r.add("all_back_seconds", all_back_seconds, "time until the last client was back", "s");
  r.add("reconnects_per_second", all_back_seconds > 0 ? double(reconnected) / all_back_seconds : 0,
        "reconnects/s over the storm", "/s");
  r.add_latency("back", back, "time back per client");
  r.add_text("tls_resume", o.tls_resume ? "yes" : "no", "TLS session resumption asked");
  r.add_int("tls_resumed", static_cast<std::int64_t>(after.tls_resumed - before.tls_resumed),
            "TLS sessions resumed in the storm");
  r.add("storm_seconds", storm_wall, "storm measured", "s");
  r.add("cpu_storm_seconds", cpu_storm, "generator CPU in the storm", "s");
  if (o.server_pid > 0) {
    r.add("server_cpu_storm_seconds", server_cpu_storm, "server CPU in the storm", "s");
    r.add("server_cpu_us_per_reconnect",
          reconnected ? server_cpu_storm * 1e6 / double(reconnected) : 0,
          "server CPU per reconnect", "us");
  }
  r.add_int("dropped", static_cast<std::int64_t>(t.dropped), "sessions dropped by the server");
  r.add_int("failed", static_cast<std::int64_t>(t.failed), "connections failed (both phases)");
  add_common_rows(r, runner, t, process_cpu_seconds() - cpu0, wall);
  r.print();
  return complete && first.failed == 0 && storm_failed == 0 && reconnected == cut_count ? 0 : 1;
}

}  // namespace tern::bench
