// hold: N authenticated, bound, online sessions kept idle; the figure that
// matters is the server's memory per session. With --checkpoints the ramp
// stops at each checkpoint, lets the server settle and samples its RSS, so
// one run (one server process, one baseline) gives KiB/session at several
// sizes.
#include <cstdio>

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

// One stop of the ramp: what it took to get there from the previous one, and
// the server's RSS once settled.
struct Checkpoint {
  std::int64_t sessions = 0;                                            // asked for, in all
  std::uint64_t online = 0;                                             // online now, in all
  std::uint64_t failed = 0;                                             // in all
  double connect_seconds = 0, cpu_seconds = 0, server_cpu_seconds = 0;  // this stage
  double connect_rate = 0;  // this stage's logins / its connect_seconds
  long rss_kib = -1;
  double kib_per_session = 0;  // (RSS - RSS before any session) / online
  bool reached = false;
};

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

Clock::time_point in_seconds(double s) {
  return Clock::now() +
         std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
}

// Ramps up to cp.sessions, then waits --settle-seconds (the last sessions'
// roster and presence work) and samples the RSS. False if the hard deadline
// cut it short.
bool reach(Runner& runner, IdleHandler& handler, long rss_before, Checkpoint& cp) {
  const Options& o = runner.opt();
  double cpu0 = process_cpu_seconds();
  double server_cpu0 = read_cpu_seconds(o.server_pid);
  std::uint64_t logins0 = runner.live_totals().online;
  auto t0 = Clock::now();
  runner.open_sessions(cp.sessions, handler);
  bool complete = runner.wait_online(cp.sessions);
  cp.connect_seconds = seconds_since(t0);
  cp.cpu_seconds = process_cpu_seconds() - cpu0;
  cp.server_cpu_seconds = read_cpu_seconds(o.server_pid) - server_cpu0;
  Totals t = runner.live_totals();
  cp.online = t.online - t.dropped;
  cp.connect_rate = cp.connect_seconds > 0 ? double(t.online - logins0) / cp.connect_seconds : 0;
  cp.failed = t.failed;
  runner.progress("%llu online, %llu failed in %.2f s; settling %.0f s",
                  (unsigned long long)cp.online, (unsigned long long)cp.failed, cp.connect_seconds,
                  o.settle_seconds);
  if (complete) complete = runner.sleep_until(in_seconds(o.settle_seconds));
  if (o.server_pid) {
    cp.rss_kib = read_rss_kib(o.server_pid);
    cp.kib_per_session = cp.online ? double(cp.rss_kib - rss_before) / double(cp.online) : 0;
  }
  cp.reached = true;
  return complete;
}

// The checkpoints as a table line each and a JSON array.
void add_checkpoints(Report& r, const std::vector<Checkpoint>& cps, bool rss) {
  std::string json = "[";
  for (const auto& cp : cps) {
    if (!cp.reached) continue;
    char shown[200];
    std::snprintf(shown, sizeof shown, "%llu online, %llu failed, stage %.2f s",
                  (unsigned long long)cp.online, (unsigned long long)cp.failed, cp.connect_seconds);
    std::string line = shown;
    if (rss) {
      std::snprintf(shown, sizeof shown, ", RSS %.1f MiB, %.2f KiB/session",
                    double(cp.rss_kib) / 1024, cp.kib_per_session);
      line += shown;
    }
    r.add_line("at " + std::to_string(cp.sessions) + " sessions", line);
    if (json.size() > 1) json += ",";
    json += "{\"sessions\":" + std::to_string(cp.sessions) +
            ",\"online\":" + std::to_string(cp.online) +
            ",\"failed\":" + std::to_string(cp.failed) +
            ",\"connect_seconds\":" + json_number(cp.connect_seconds) +
            ",\"connect_rate\":" + json_number(cp.connect_rate) +
            ",\"generator_cpu_seconds\":" + json_number(cp.cpu_seconds);
    if (rss)
      json += ",\"server_cpu_seconds\":" + json_number(cp.server_cpu_seconds) +
              ",\"server_rss_kib\":" + std::to_string(cp.rss_kib) +
              ",\"server_kib_per_session\":" + json_number(cp.kib_per_session);
    json += "}";
  }
  r.add_json("checkpoints", json + "]");
}

}  // namespace

int run_hold(const Env& env) {
  const Options& o = env.opt;
  Runner runner(env);
  IdleHandler handler;
  std::vector<Checkpoint> cps;
  for (std::int64_t n : o.checkpoints.empty() ? std::vector{o.sessions} : o.checkpoints)
    cps.push_back({.sessions = n});
  // The baseline: before the first connection.
  long rss_before = o.server_pid ? read_rss_kib(o.server_pid) : -1;
  double cpu0 = process_cpu_seconds();
  auto t0 = Clock::now();
  runner.start();
  bool complete = true;
  for (auto& cp : cps)
    if (!(complete = reach(runner, handler, rss_before, cp))) break;
  double connect_seconds = 0, cpu_connect = 0, server_cpu_connect = 0;
  long rss_online = -1;
  for (const auto& cp : cps) {
    if (!cp.reached) continue;
    connect_seconds += cp.connect_seconds;
    cpu_connect += cp.cpu_seconds;
    server_cpu_connect += cp.server_cpu_seconds;
    rss_online = cp.rss_kib;
  }
  Totals at_online = runner.live_totals();
  runner.progress("holding %.0f s", o.hold_seconds);
  if (complete) complete = runner.sleep_until(in_seconds(o.hold_seconds));
  long rss_after = o.server_pid ? read_rss_kib(o.server_pid) : -1;
  runner.stop();
  double wall = seconds_since(t0);
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
  if (!o.checkpoints.empty()) add_checkpoints(r, cps, o.server_pid != 0);
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
