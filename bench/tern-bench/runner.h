// What every scenario shares: the workers, the paced connection ramp, the
// per-session receive loop, waiting with a hard deadline, totals.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "tern-bench/worker.h"

namespace tern::bench {

// What a scenario does with the stanzas of an online session. Called on the
// session's worker thread.
class SessionHandler {
 public:
  virtual ~SessionHandler() = default;
  virtual void on_stanza(Worker& w, Connection& c, const xml::Element& el) = 0;
};

// Hands the stanzas of an online session to `handler` until the stream ends;
// an end the server caused counts as a drop (Connection::cut() does not).
awaitable<void> receive_loop(Worker& w, Connection& c, SessionHandler& handler);

class Runner {
 public:
  explicit Runner(const Env& env);
  ~Runner();

  const Env& env() const { return env_; }
  const Options& opt() const { return env_.opt; }
  std::vector<std::unique_ptr<Worker>>& workers() { return workers_; }
  Worker& worker_for(std::int64_t i) { return *workers_[static_cast<std::size_t>(i) % workers_.size()]; }

  void start();
  // Runs fn(worker) on every worker thread and waits until all have run it:
  // afterwards, what the workers wrote before is visible here and the other
  // way round.
  void on_each(const std::function<void(Worker&)>& fn);
  // Stops every worker (closing its connections) and joins the threads.
  void stop();

  // Opens sessions up to n: [0, n) on the first call, then from where the
  // previous call stopped (a staged ramp). Session i belongs to worker
  // i % threads and logs in as user first_user + i, or + i % users when
  // --users is set; paced by --connect-concurrency and --connect-rate. Each
  // online session gets a receive loop that hands stanzas to `handler`.
  // Returns at once; see wait_online().
  void open_sessions(std::int64_t n, SessionHandler& handler);
  // Waits until every session opened is online or failed, or the hard
  // deadline. Returns false on the deadline. Prints progress to stderr.
  bool wait_online(std::int64_t n);
  // Connection of session i (valid after open_sessions).
  Connection& session(std::int64_t i) { return *sessions_[static_cast<std::size_t>(i)]; }

  // Sleeps until `until` or the hard deadline, or until stop_early() holds
  // (checked every 50 ms). Returns false when the hard deadline cut it short.
  bool sleep_until(Clock::time_point until, const std::function<bool()>& stop_early = {});
  bool past_hard_deadline() const { return Clock::now() >= env_.hard_deadline; }

  Totals live_totals() const;  // counters only, any time
  Totals totals() const;       // everything: only after stop()
  void progress(const char* fmt, ...) const;

  struct Ramp;  // the connection ramp of one worker (runner.cc)

 private:
  const Env& env_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<Connection*> sessions_;
  std::vector<std::unique_ptr<Ramp>> ramps_;  // one per worker
};

}  // namespace tern::bench
