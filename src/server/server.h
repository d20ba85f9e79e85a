// `tern serve`: the server's parts, put together as ordered steps (see
// steps.h). Start: storage, shard loops, blocking pool, router and modules,
// client streams, listeners, control socket. Stop, in reverse: stop
// accepting, close every stream with <system-shutdown/>, wait for the work
// modules queued (storage writes: last activity, offline messages), stop the
// pool, stop the shards — all within server.shutdown_timeout_seconds.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <boost/asio/ssl/context.hpp>

#include "core/blocking_pool.h"
#include "core/config.h"
#include "core/shards.h"
#include "modules/module.h"
#include "router/router.h"
#include "server/control.h"
#include "server/listeners.h"
#include "server/steps.h"
#include "storage/storage.h"
#include "http/bosh.h"
#include "http/http_context.h"
#include "stream/c2s_context.h"
#include "stream/component_stream.h"
#include "stream/s2s.h"
#include "stream/stream_metrics.h"
#include "transport/connection_limiter.h"

namespace tern::server {

class Server {
 public:
  explicit Server(const core::Config& config);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Starts every step. Throws on a startup failure (bad certificate, port
  // taken, storage unopenable) after stopping what had started.
  void start();
  // Stops every step, last first, within the configured shutdown timeout.
  void stop();
  // What is served, e.g. " c2s 127.0.0.1:5222 c2s_tls 127.0.0.1:5223".
  std::string listening() const;
  unsigned shard_count() const { return shard_count_; }

 private:
  void add_steps();
  // One step per kind of listener; adding a kind (HTTP, s2s) is one call.
  void add_listener_step(const std::string& kind, const std::vector<std::string>& addresses,
                         MakeAcceptHandler make_handler);
  void start_router_and_modules();
  void start_streams();
  void close_streams(Deadline deadline);
  void start_s2s();
  void close_s2s(Deadline deadline);
  void wait_for_module_work(Deadline deadline);
  void tell_modules_stopping(Deadline deadline);
  bool is_idle(Deadline deadline);
  awaitable<std::string> answer_control(std::string command);
  // /metrics in Prometheus text format.
  std::string render_metrics() const;

  const core::Config& config_;
  const unsigned shard_count_;
  const Clock::time_point started_at_ = Clock::now();

  // Members are destroyed in reverse order, after every step has stopped:
  // first what lives on the shard loops or posts into them (control socket,
  // listeners, modules, the pool's leftover jobs), then the loops with every
  // handler and coroutine frame still in them, then what those frames point
  // to (streams context, router, storage).
  std::unique_ptr<storage::Storage> storage_;
  std::unique_ptr<boost::asio::ssl::context> tls_;
  stream::AuthThrottle throttle_;
  std::unique_ptr<router::Router> router_;
  std::unique_ptr<stream::LiveStreams> live_;
  std::unique_ptr<stream::ComponentHub> components_;
  std::unique_ptr<stream::C2SContext> c2s_;
  // Federation: its streams live on the shard loops and report to it.
  std::unique_ptr<stream::S2S> s2s_;
  std::unique_ptr<stream::StreamMetrics> stream_metrics_;
  // BOSH sessions are dropped (clear()) once the shards have stopped; the
  // registry and the HTTP context outlive the loops their connections use.
  std::unique_ptr<http::BoshRegistry> bosh_;
  std::unique_ptr<http::HttpContext> http_;
  std::unique_ptr<transport::ConnectionLimiter> limiter_;
  std::unique_ptr<core::Shards> shards_;
  std::unique_ptr<core::BlockingPool> blocking_;
  modules::ServerFeatures features_;
  std::vector<std::unique_ptr<modules::Module>> modules_;
  std::vector<std::unique_ptr<ListenerGroup>> listeners_;
  std::unique_ptr<ControlServer> control_;
  Steps steps_;
};

// Runs the server until SIGTERM or SIGINT; returns the process exit code.
// Throws on startup failure with a message for the operator.
int serve(const core::Config& config);

}  // namespace tern::server
