// login: --concurrency loops, each logging in (connect, stream, TLS, SASL,
// bind) and out (</stream:stream>) again and again for --duration.
#include "tern-bench/scenarios.h"

namespace tern::bench {
namespace {

struct LoginPlan {
  std::int64_t users = 1;
  std::uint64_t per_worker_limit = 0;  // 0: no --count bound
  std::uint64_t next = 0;              // per worker: the next user offset to use
};

awaitable<void> login_lane(Worker& w, Connection& c, LoginPlan& plan, std::int64_t threads) {
  const Options& o = w.env.opt;
  asio::steady_timer backoff(w.ioc);
  while (w.sending) {
    if (plan.per_worker_limit && w.stats.logins.get() >= plan.per_worker_limit) break;
    // Worker k takes users k, k+T, k+2T, ... so workers never share one.
    std::int64_t offset =
        (static_cast<std::int64_t>(plan.next++) * threads + w.id) % plan.users;
    c.reset(o.first_user + offset);
    bool ok = co_await c.establish(false);
    if (!ok) {
      // A refused connection fails at once: do not spin on it.
      backoff.expires_after(std::chrono::milliseconds(10));
      boost::system::error_code ec;
      co_await backoff.async_wait(asio::redirect_error(use_awaitable, ec));
      continue;
    }
    co_await c.close_stream();
    w.stats.logins.add();
  }
}

}  // namespace

int run_login(const Env& env) {
  const Options& o = env.opt;
  Runner runner(env);
  auto threads = static_cast<std::int64_t>(runner.workers().size());
  std::vector<LoginPlan> plans(static_cast<std::size_t>(threads));
  for (auto& p : plans) {
    p.users = o.users > 0 ? o.users : o.concurrency;
    if (p.users < threads) p.users = threads;
    p.per_worker_limit = o.count ? static_cast<std::uint64_t>((o.count + threads - 1) / threads) : 0;
  }
  runner.start();
  double cpu0 = process_cpu_seconds();
  double server_cpu0 = read_cpu_seconds(o.server_pid);
  auto t0 = Clock::now();
  runner.on_each([&](Worker& w) {
    w.sending = true;
    for (std::int64_t i = w.id; i < o.concurrency; i += threads) {
      Connection& c = w.add_connection(o.first_user);
      spawn(w, login_lane(w, c, plans[static_cast<std::size_t>(w.id)], threads));
    }
  });
  auto end = t0 + std::chrono::duration_cast<Clock::duration>(
                      std::chrono::duration<double>(o.duration));
  auto last = Clock::now();
  bool complete = runner.sleep_until(end, [&] {
    Totals t = runner.live_totals();
    if (Clock::now() - last >= std::chrono::seconds(1)) {
      last = Clock::now();
      runner.progress("%llu logins, %llu failed", (unsigned long long)t.logins,
                      (unsigned long long)t.failed);
    }
    return o.count && t.logins >= static_cast<std::uint64_t>(o.count);
  });
  double window = std::chrono::duration<double>(Clock::now() - t0).count();
  Totals at_end = runner.live_totals();
  double cpu_window = process_cpu_seconds() - cpu0;
  double server_cpu_window = read_cpu_seconds(o.server_pid) - server_cpu0;
  runner.on_each([](Worker& w) { w.sending = false; });
  runner.stop();
  double wall = std::chrono::duration<double>(Clock::now() - t0).count();
  Totals t = runner.totals();

  Report r("login");
  r.add_int("concurrency", o.concurrency, "concurrency");
  r.add("duration_seconds", window, "measured", "s");
  r.add_int("logins", static_cast<std::int64_t>(at_end.logins), "logins completed");
  r.add("logins_per_second", window > 0 ? double(at_end.logins) / window : 0, "logins/s");
  r.add_int("failed", static_cast<std::int64_t>(t.failed), "failed");
  if (o.tls_resume)
    r.add_int("tls_resumed", static_cast<std::int64_t>(t.tls_resumed), "TLS sessions resumed");
  r.add_latency("login", t.login_latency, "login latency");
  r.add("cpu_window_seconds", cpu_window, "generator CPU in window", "s");
  if (o.server_pid > 0)
    r.add("server_cpu_us_per_login",
          at_end.logins ? server_cpu_window * 1e6 / double(at_end.logins) : 0,
          "server CPU per login", "us");
  add_common_rows(r, runner, t, process_cpu_seconds() - cpu0, wall);
  r.print();
  return complete && t.failed == 0 && t.logins > 0 ? 0 : 1;
}

}  // namespace tern::bench
