#include "cli/server.h"

#include <boost/asio/signal_set.hpp>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <iostream>
#include <thread>

#include "cli/control.h"
#include "core/blocking_pool.h"
#include "core/log.h"
#include "core/shards.h"
#include "modules/module.h"
#include "router/router.h"
#include "sasl/mechanism.h"
#include "storage/storage.h"
#include "http/bosh.h"
#include "http/http_context.h"
#include "stream/c2s_session.h"
#include "transport/connection_limiter.h"
#include "transport/listener.h"
#include "transport/tls.h"

namespace tern::cli {
namespace {

using namespace std::chrono_literals;

// A random secret made on first start and kept in the data dir (mode 0600).
std::string load_or_make_secret(const std::string& path) {
  if (std::ifstream in{path, std::ios::binary}) {
    std::string secret((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (secret.size() >= 32) return secret;
  }
  std::string secret = sasl::random_bytes(32);
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(secret.data(), static_cast<std::streamsize>(secret.size()));
    if (!out) throw std::runtime_error("cannot write " + path);
  }
  std::filesystem::permissions(path, std::filesystem::perms::owner_read |
                                         std::filesystem::perms::owner_write);
  return secret;
}

}  // namespace

int serve(const core::Config& config) {
  // OpenSSL writes to sockets with write(2); a peer that hung up must give
  // an error, not kill the process.
  std::signal(SIGPIPE, SIG_IGN);
  std::filesystem::create_directories(config.data_dir);
  auto storage = storage::open_storage(config.storage_backend, config.sqlite_path());
  auto certs = transport::ensure_certificate(config.tls_cert, config.tls_key, config.data_dir,
                                             config.domains);
  auto tls = transport::make_server_context(certs);

  unsigned n_shards = config.shards > 0 ? static_cast<unsigned>(config.shards)
                                        : std::max(1u, std::thread::hardware_concurrency());
  core::Shards shards(n_shards);
  core::BlockingPool blocking(std::max(2u, std::thread::hardware_concurrency()));

  std::set<std::string> domains(config.domains.begin(), config.domains.end());
  router::Router router(shards, domains, [&](const xmpp::Jid& bare) -> awaitable<bool> {
    storage::AccountKey key{bare.node(), bare.domain()};
    co_return co_await blocking.run([&] { return storage->accounts().exists(key); });
  });

  // Modules: all built-in ones unless the config lists which.
  modules::ServerFeatures features;
  std::vector<std::unique_ptr<modules::Module>> running;
  static const std::map<std::string, std::string> kNoOptions;
  for (const auto& info : modules::builtin_modules()) {
    if (config.modules_set &&
        std::find(config.modules.begin(), config.modules.end(), info.name) == config.modules.end())
      continue;
    auto opts = config.module_options.find(info.name);
    modules::ModuleContext mctx{router, *storage, blocking, config, features,
                                opts == config.module_options.end() ? kNoOptions : opts->second};
    running.push_back(info.start(mctx));
    spdlog::debug("module {} started", info.name);
  }

  stream::AuthThrottle throttle;
  stream::LiveStreams live(n_shards);
  stream::C2SContext c2s(router, *storage, blocking, config, tls.get(), throttle, live);
  for (unsigned s = 0; s < n_shards; ++s)
    c2s.parser_pools.push_back(std::make_unique<xml::ParserPool>());
  c2s.read_buffers.assign(n_shards, std::vector<char>(transport::kMaxTls13Record));
  c2s.bound_features = features.stream_features;
  c2s.fake_salt_secret = load_or_make_secret(config.data_dir + "/scram-secret");
  c2s.pre_auth_features = features.pre_auth_stream_features;
  stream::StreamMetrics stream_metrics(n_shards);
  c2s.metrics = &stream_metrics;

  // HTTP: the web page, discovery, WebSocket, BOSH and /metrics.
  std::vector<asio::any_io_executor> shard_executors;
  for (unsigned s = 0; s < n_shards; ++s) shard_executors.push_back(shards.loop(s).get_executor());
  http::BoshRegistry bosh(c2s, shard_executors);
  http::HttpContext http_ctx{c2s, config.http_web_root.empty() ? TERN_WEB_ROOT : config.http_web_root,
                             &bosh, {}};
  const auto metrics_started = std::chrono::steady_clock::now();
  http_ctx.metrics = [&] {
    std::string out = stream_metrics.render();
    out += fmt::format("# HELP tern_bosh_sessions BOSH sessions.\n# TYPE tern_bosh_sessions gauge\n"
                       "tern_bosh_sessions {}\n", bosh.size());
    out += fmt::format("# HELP tern_bound_sessions Sessions bound to a resource.\n"
                       "# TYPE tern_bound_sessions gauge\ntern_bound_sessions {}\n",
                       router.sessions().size());
    long pages = 0, resident = 0;
    if (std::FILE* f = std::fopen("/proc/self/statm", "r")) {
      if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
      std::fclose(f);
    }
    out += fmt::format("# HELP tern_resident_memory_bytes Resident set size.\n"
                       "# TYPE tern_resident_memory_bytes gauge\ntern_resident_memory_bytes {}\n",
                       resident * 4096);
    out += fmt::format("# HELP tern_uptime_seconds Seconds since start.\n"
                       "# TYPE tern_uptime_seconds gauge\ntern_uptime_seconds {}\n",
                       std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::steady_clock::now() - metrics_started).count());
    return out;
  };

  transport::ConnectionLimiter limiter(config.connections_per_ip_per_minute);
  std::vector<std::unique_ptr<transport::Listener>> listeners;
  std::string ready;
  auto listen_all = [&](const std::vector<std::string>& addrs, const char* what, bool direct_tls) {
    for (const auto& a : addrs) {
      auto ep = transport::parse_endpoint(a);
      for (unsigned s = 0; s < n_shards; ++s) {
        listeners.push_back(std::make_unique<transport::Listener>(
            shards.loop(s), ep, [&c2s, &limiter, s, direct_tls](tcp::socket sock) {
              boost::system::error_code ec;
              auto peer = sock.remote_endpoint(ec);
              if (!ec && !limiter.allow(peer.address().to_string())) {
                spdlog::warn("refusing a connection from {}: over limits.connections_per_ip_per_minute",
                             peer.address().to_string());
                return;  // the socket closes as it goes out of scope
              }
              stream::C2SSession::start(c2s, s, std::move(sock), direct_tls);
            }));
        if (s == 0) ep = listeners.back()->local_endpoint();  // a port 0 becomes one port for all
      }
      ready += fmt::format(" {} {}", what, a);
    }
  };
  listen_all(config.listen.c2s, "c2s", false);
  listen_all(config.listen.c2s_tls, "c2s_tls", true);
  auto listen_http = [&](const std::vector<std::string>& addrs, const char* what, bool tls) {
    for (const auto& a : addrs) {
      auto ep = transport::parse_endpoint(a);
      for (unsigned s = 0; s < n_shards; ++s) {
        listeners.push_back(std::make_unique<transport::Listener>(
            shards.loop(s), ep, [&http_ctx, &limiter, s, tls](tcp::socket sock) {
              boost::system::error_code ec;
              auto peer = sock.remote_endpoint(ec);
              if (!ec && !limiter.allow(peer.address().to_string())) return;
              http::serve_http_connection(http_ctx, s, std::move(sock), tls);
            }));
        if (s == 0) ep = listeners.back()->local_endpoint();
      }
      ready += fmt::format(" {} {}", what, a);
    }
  };
  listen_http(config.listen.http, "http", false);
  listen_http(config.listen.https, "https", true);
  for (auto [list, what] : {std::pair{&config.listen.s2s, "s2s"}, {&config.listen.component, "component"}})
    if (!list->empty()) spdlog::info("listen.{}: not served by this version yet", what);

  const auto started = std::chrono::steady_clock::now();
  auto control = std::make_unique<ControlServer>(shards.loop(0), control_socket_path(config.data_dir),
                        [&](const std::string& command) -> std::string {
    if (command == "ping") return "pong";
    if (command == "status") {
      auto uptime = std::chrono::duration_cast<std::chrono::seconds>(
          std::chrono::steady_clock::now() - started);
      return fmt::format("running; domains {}; shards {}; streams {}; bound sessions {}; uptime {}s",
                         fmt::join(config.domains, ","), n_shards, live.total(),
                         router.sessions().size(), uptime.count());
    }
    if (command.rfind("kick ", 0) == 0) {
      auto who = xmpp::Jid::parse(command.substr(5));
      if (!who) return "error: bad JID";
      auto sessions = router.sessions().sessions_of(who->bare());
      for (auto& session : sessions)
        router.on_shard_of(session, [](router::Session& s) {
          s.close_with_error(xmpp::StreamCondition::kNotAuthorized, "account deleted");
        });
      return fmt::format("closed {}", sessions.size());
    }
    return "error: unknown command";
  });

  for (auto& l : listeners) l->start();
  shards.start();
  std::cout << "tern ready:" << ready << std::endl;
  spdlog::info("serving {} on{} with {} shard(s)", fmt::join(config.domains, ", "), ready, n_shards);

  // The main thread only waits for a signal.
  asio::io_context main_loop;
  asio::signal_set signals(main_loop, SIGTERM, SIGINT);
  int signal_number = 0;
  signals.async_wait([&](const boost::system::error_code&, int sig) { signal_number = sig; });
  main_loop.run();
  spdlog::info("signal {}: shutting down", signal_number);

  for (unsigned s = 0; s < n_shards; ++s) {
    asio::post(shards.loop(s), [&, s] {
      live.for_each(s, [](router::Session& session) {
        session.close_with_error(xmpp::StreamCondition::kSystemShutdown);
      });
    });
  }
  for (std::size_t i = 0; i < listeners.size(); ++i) {
    auto* l = listeners[i].get();
    asio::post(shards.loop(static_cast<unsigned>(i % n_shards)), [l] { l->stop(); });
  }
  // Give streams a moment to flush their goodbyes.
  for (int i = 0; i < 30; ++i) {
    if (live.total() == 0) break;
    std::this_thread::sleep_for(100ms);
  }
  shards.stop();
  // Sockets and timers go before the loops they belong to.
  control.reset();
  listeners.clear();
  bosh.clear();
  // Modules stop while the loops still exist: work they post is dropped
  // with the loops, never run against a stopped module.
  running.clear();
  shards.destroy_loops();
  blocking.stop();
  spdlog::info("stopped");
  return 0;
}

}  // namespace tern::cli
