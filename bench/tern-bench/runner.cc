#include "tern-bench/runner.h"

#include <cstdarg>
#include <cstdio>
#include <future>
#include <thread>

namespace tern::bench {

struct Runner::Ramp {
  std::vector<Connection*> queue;
  std::size_t next = 0;
  Clock::time_point next_start;
  Clock::duration interval{};  // zero: no rate limit
  SessionHandler* handler = nullptr;
  int lanes = 0;  // ramp_lane coroutines still running
};

awaitable<void> receive_loop(Worker& w, Connection& c, SessionHandler& handler) {
  xml::Element el;
  for (;;) {
    bool ok = co_await c.next_stanza(el);
    if (!ok) break;
    handler.on_stanza(w, c, el);
  }
  if (c.take_cut()) co_return;  // the scenario cut it (reconnect), maybe reconnected since
  if (!w.stopping) {
    w.stats.dropped.add();
    c.abort();
  }
}

namespace {

// One of the parallel logins of a worker's ramp: takes the next connection
// from the queue, waits for its slot under --connect-rate, logs it in.
awaitable<void> ramp_lane(Worker& w, Runner::Ramp& ramp) {
  asio::steady_timer timer(w.ioc);
  while (!w.stopping && ramp.next < ramp.queue.size()) {
    Connection& c = *ramp.queue[ramp.next++];
    if (ramp.interval.count() > 0) {
      auto now = Clock::now();
      auto at = std::max(now, ramp.next_start);
      ramp.next_start = at + ramp.interval;
      if (at > now) {
        timer.expires_at(at);
        boost::system::error_code ec;
        co_await timer.async_wait(asio::redirect_error(use_awaitable, ec));
        if (w.stopping) break;
      }
    }
    bool ok = co_await c.establish(true);
    if (ok) spawn(w, receive_loop(w, c, *ramp.handler));
  }
  --ramp.lanes;
}

}  // namespace

Runner::Runner(const Env& env) : env_(env) {
  for (int i = 0; i < env.opt.threads; ++i)
    workers_.push_back(std::make_unique<Worker>(i, env));
}

Runner::~Runner() { stop(); }

void Runner::start() {
  for (auto& w : workers_) w->start();
}

void Runner::stop() {
  for (auto& w : workers_) w->stop_and_join();
}

void Runner::on_each(const std::function<void(Worker&)>& fn) {
  std::vector<std::promise<void>> done(workers_.size());
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    Worker* w = workers_[i].get();
    std::promise<void>* p = &done[i];
    w->post([w, p, &fn] {
      fn(*w);
      p->set_value();
    });
  }
  for (auto& p : done) p.get_future().wait();
}

void Runner::open_sessions(std::int64_t n, SessionHandler& handler) {
  const Options& o = opt();
  auto threads = static_cast<std::int64_t>(workers_.size());
  auto from = static_cast<std::int64_t>(sessions_.size());
  if (n <= from) return;
  sessions_.resize(static_cast<std::size_t>(n), nullptr);
  if (ramps_.empty())
    for (std::size_t i = 0; i < workers_.size(); ++i) ramps_.push_back(std::make_unique<Ramp>());
  int lanes = static_cast<int>((o.connect_concurrency + threads - 1) / threads);
  // Each worker makes its own connections: the watchdog walks that list.
  on_each([&](Worker& w) {
    Ramp& ramp = *ramps_[static_cast<std::size_t>(w.id)];
    // Session i belongs to worker i % threads; the first one of ours >= from:
    for (std::int64_t i = from + ((w.id - from % threads) + threads) % threads; i < n;
         i += threads) {
      std::int64_t user = o.first_user + (o.users > 0 ? i % o.users : i);
      Connection& c = w.add_connection(user);
      c.set_tag(static_cast<std::size_t>(i));
      sessions_[static_cast<std::size_t>(i)] = &c;
      ramp.queue.push_back(&c);
    }
    ramp.handler = &handler;
    ramp.next_start = Clock::now();
    if (o.connect_rate > 0)
      ramp.interval = std::chrono::duration_cast<Clock::duration>(
          std::chrono::duration<double>(double(threads) / o.connect_rate));
    // Lanes of an earlier call that are still running pick up the new
    // connections too: top up to --connect-concurrency, no more.
    for (; ramp.lanes < lanes; ++ramp.lanes) spawn(w, ramp_lane(w, ramp));
  });
}

bool Runner::wait_online(std::int64_t n) {
  auto last = Clock::now();
  for (;;) {
    Totals t = live_totals();
    if (static_cast<std::int64_t>(t.online + t.failed) >= n) return true;
    if (past_hard_deadline()) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (Clock::now() - last >= std::chrono::seconds(1)) {
      last = Clock::now();
      progress("online %llu/%lld, failed %llu", (unsigned long long)t.online, (long long)n,
               (unsigned long long)t.failed);
    }
  }
}

bool Runner::sleep_until(Clock::time_point until, const std::function<bool()>& stop_early) {
  for (;;) {
    auto now = Clock::now();
    if (now >= env_.hard_deadline) return false;
    if (now >= until) return true;
    if (stop_early && stop_early()) return true;
    auto step = std::min<Clock::duration>(until - now, std::chrono::milliseconds(50));
    std::this_thread::sleep_for(step);
  }
}

Totals Runner::live_totals() const {
  Totals t;
  for (const auto& w : workers_) {
    const WorkerStats& s = w->stats;
    t.online += s.online.get();
    t.failed += s.failed.get();
    t.dropped += s.dropped.get();
    t.logins += s.logins.get();
    t.tls_resumed += s.tls_resumed.get();
    t.sent += s.sent.get();
    t.received += s.received.get();
    t.received_other += s.received_other.get();
    t.errors += s.errors.get();
  }
  return t;
}

Totals Runner::totals() const {
  Totals t = live_totals();
  for (const auto& w : workers_) {
    t.login_latency.merge(w->stats.login_latency);
    t.message_latency.merge(w->stats.message_latency);
    for (const auto& [reason, n] : w->stats.failures) t.failures[reason] += n;
  }
  return t;
}

void Runner::progress(const char* fmt, ...) const {
  if (opt().quiet) return;
  std::va_list ap;
  va_start(ap, fmt);
  std::fprintf(stderr, "tern-bench %s: ", opt().scenario.c_str());
  std::vfprintf(stderr, fmt, ap);
  std::fputc('\n', stderr);
  va_end(ap);
}

}  // namespace tern::bench
