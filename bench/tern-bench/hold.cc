// hold: N authenticated, bound, online sessions kept idle; the figure that
// matters is the server's memory per session.
#include <thread>

#include "tern-bench/scenarios.h"

namespace tern::bench {
namespace {

// Idle sessions only answer what the server asks (pings, via next_stanza).
class IdleHandler : public SessionHandler {
 public:
  void on_stanza(Worker& w, Connection&, const xml::Element&) override {
    w.stats.received_other.add();
  }
};

}  // namespace

int run_hold(const Env& env) {
  const Options& o = env.opt;
  Runner runner(env);
  IdleHandler handler;
  long rss_before = o.server_pid ? read_rss_kib(o.server_pid) : -1;
  double cpu0 = process_cpu_seconds();
  double server_cpu0 = read_cpu_seconds(o.server_pid);
  auto t0 = Clock::now();
  runner.start();
  runner.open_sessions(o.sessions, handler);
  bool complete = runner.wait_online(o.sessions);
  double connect_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  double cpu_connect = process_cpu_seconds() - cpu0;
  double server_cpu_connect = read_cpu_seconds(o.server_pid) - server_cpu0;
  Totals at_online = runner.live_totals();
  runner.progress("%llu online, %llu failed in %.2f s; holding %.0f s",
                  (unsigned long long)at_online.online, (unsigned long long)at_online.failed,
                  connect_seconds, o.hold_seconds);
  // Let the last sessions' presence and roster work settle before measuring.
  runner.sleep_until(Clock::now() + std::chrono::milliseconds(500));
  long rss_online = o.server_pid ? read_rss_kib(o.server_pid) : -1;
  if (complete)
    complete = runner.sleep_until(Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                                     std::chrono::duration<double>(o.hold_seconds)));
  long rss_after = o.server_pid ? read_rss_kib(o.server_pid) : -1;
  runner.stop();
  double wall = std::chrono::duration<double>(Clock::now() - t0).count();
  double cpu = process_cpu_seconds() - cpu0;
  Totals t = runner.totals();

  Report r("hold");
  r.add_int("sessions", o.sessions, "sessions asked");
  r.add_int("online", static_cast<std::int64_t>(t.online), "sessions online");
  r.add_int("failed", static_cast<std::int64_t>(t.failed), "failed");
  r.add_int("dropped", static_cast<std::int64_t>(t.dropped), "dropped while held");
  r.add("connect_seconds", connect_seconds, "time to connect all", "s");
  r.add("connect_rate", connect_seconds > 0 ? double(at_online.online) / connect_seconds : 0,
        "sessions/s while connecting");
  r.add_latency("login", t.login_latency, "login latency");
  r.add("hold_seconds", o.hold_seconds, "held", "s");
  if (o.server_pid) {
    r.add_int("server_pid", o.server_pid, "server pid");
    r.add_int("server_rss_before_kib", rss_before, "server RSS before", "KiB");
    r.add_int("server_rss_online_kib", rss_online, "server RSS all online", "KiB");
    r.add_int("server_rss_after_kib", rss_after, "server RSS after hold", "KiB");
    double per = t.online ? double(rss_after - rss_before) / double(t.online) : 0;
    r.add("server_kib_per_session", per, "server KiB per session", "KiB");
    r.add("server_cpu_connect_seconds", server_cpu_connect, "server CPU while connecting", "s");
  }
  r.add("cpu_connect_seconds", cpu_connect, "generator CPU while connecting", "s");
  add_common_rows(r, runner, t, cpu, wall);
  r.print();
  return complete && t.failed == 0 && t.dropped == 0 ? 0 : 1;
}

}  // namespace tern::bench
