#include "server/server.h"

#include <malloc.h>

#include <boost/asio/signal_set.hpp>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <thread>

#include "core/log.h"
#include "modules/roster/account_removal.h"
#include "router/close_sessions.h"
#include "sasl/mechanism.h"
#include "server/loop_calls.h"
#include "stream/c2s_session.h"
#include "transport/listener.h"
#include "transport/session_tickets.h"
#include "transport/tls.h"

namespace tern::server {
namespace {

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

unsigned shard_count_of(const core::Config& config) {
  return config.shards > 0 ? static_cast<unsigned>(config.shards)
                           : std::max(1u, std::thread::hardware_concurrency());
}

long elapsed_ms(Clock::time_point since) {
  return static_cast<long>(
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - since).count());
}

}  // namespace

Server::Server(const core::Config& config)
    : config_(config), shard_count_(shard_count_of(config)) {
  add_steps();
}

Server::~Server() { stop(); }

void Server::start() { steps_.start_all(); }

void Server::stop() {
  steps_.stop_all(Clock::now() + std::chrono::seconds(config_.shutdown_timeout_seconds));
}

std::string Server::listening() const {
  std::string out;
  for (const auto& group : listeners_) out += group->describe();
  return out;
}

void Server::add_steps() {
  steps_.add("storage", [this] {
    std::filesystem::create_directories(config_.data_dir);
    storage_ = storage::open_storage(config_.storage_backend, config_.sqlite_path());
  });
  steps_.add(
      "shards",
      [this] {
        shards_ = std::make_unique<core::Shards>(shard_count_);
        shards_->start();
      },
      [this](Deadline) {
        shards_->stop();
        if (bosh_) bosh_->clear();
      });
  steps_.add(
      "blocking pool",
      [this] {
        blocking_ =
            std::make_unique<core::BlockingPool>(std::max(2u, std::thread::hardware_concurrency()));
      },
      [this](Deadline) { blocking_->stop(); });
  steps_.add("router and modules", [this] { start_router_and_modules(); },
             [this](Deadline deadline) { wait_for_module_work(deadline); });
  // Before the client streams, so that it stops after them: the presences
  // of closing sessions still reach remote contacts.
  steps_.add("s2s", [this] { start_s2s(); }, [this](Deadline deadline) { close_s2s(deadline); });
  steps_.add("c2s streams", [this] { start_streams(); },
             [this](Deadline deadline) { close_streams(deadline); });
  // Stops just before the streams close (steps stop last first): modules
  // say what they have to say while the sessions are still there.
  steps_.add("stop notices", [] {}, [this](Deadline deadline) { tell_modules_stopping(deadline); });

  limiter_ = std::make_unique<transport::ConnectionLimiter>(transport::connection_limits(config_));
  for (bool direct_tls : {false, true}) {
    add_listener_step(direct_tls ? "c2s_tls" : "c2s",
                      direct_tls ? config_.listen.c2s_tls : config_.listen.c2s,
                      [this, direct_tls](unsigned s) -> transport::AcceptHandler {
      return [c2s = c2s_.get(), &limiter = *limiter_, s, direct_tls](tcp::socket sock) {
        boost::system::error_code ec;
        auto peer = sock.remote_endpoint(ec);
        // A refusal is logged by the limiter, once per address per interval.
        if (!ec && !limiter.allow(peer.address()))
          return;  // the socket closes as it goes out of scope
        stream::C2SSession::start(*c2s, s, std::move(sock), direct_tls);
      };
    });
  }
  // HTTP: the web page, discovery, WebSocket, BOSH and /metrics.
  for (bool tls : {false, true}) {
    add_listener_step(tls ? "https" : "http", tls ? config_.listen.https : config_.listen.http,
                      [this, tls](unsigned s) -> transport::AcceptHandler {
      return [http = http_.get(), &limiter = *limiter_, s, tls](tcp::socket sock) {
        boost::system::error_code ec;
        auto peer = sock.remote_endpoint(ec);
        if (!ec && !limiter.allow(peer.address())) return;
        http::serve_http_connection(*http, s, std::move(sock), tls);
      };
    });
  }
  add_listener_step("s2s", config_.listen.s2s, [this](unsigned s) -> transport::AcceptHandler {
    return [s2s = s2s_.get(), &limiter = *limiter_, s](tcp::socket sock) {
      boost::system::error_code ec;
      auto peer = sock.remote_endpoint(ec);
      if (!ec && !limiter.allow(peer.address())) return;
      s2s->accept(s, std::move(sock));
    };
  });
  add_listener_step("s2s_tls", config_.listen.s2s_tls, [this](unsigned s) -> transport::AcceptHandler {
    return [s2s = s2s_.get(), &limiter = *limiter_, s](tcp::socket sock) {
      boost::system::error_code ec;
      auto peer = sock.remote_endpoint(ec);
      if (!ec && !limiter.allow(peer.address())) return;
      s2s->accept(s, std::move(sock), /*direct_tls=*/true);
    };
  });
  // External components (XEP-0114), only those the config gives a secret.
  if (!config_.component_secrets.empty()) {
    add_listener_step("component", config_.listen.component,
                      [this](unsigned s) -> transport::AcceptHandler {
      return [hub = components_.get(), s](tcp::socket sock) {
        stream::ComponentStream::start(*hub, s, std::move(sock));
      };
    });
  }

  steps_.add(
      "control socket",
      [this] {
        run_on(shards_->loop(0), [this] {
          control_ = std::make_unique<ControlServer>(
              shards_->loop(0), control_socket_path(config_.data_dir),
              [this](std::string command) { return answer_control(std::move(command)); });
        });
      },
      [this](Deadline deadline) {
        run_on(shards_->loop(0), [this] { control_->close(); }, deadline);
      });
}

void Server::add_listener_step(const std::string& kind, const std::vector<std::string>& addresses,
                               MakeAcceptHandler make_handler) {
  if (addresses.empty()) return;
  const std::size_t slot = listeners_.size();
  listeners_.emplace_back();  // filled when the step starts
  steps_.add(
      "listen." + kind,
      [this, slot, kind, &addresses, make_handler = std::move(make_handler)] {
        listeners_[slot] = std::make_unique<ListenerGroup>(*shards_, kind, addresses, make_handler);
        listeners_[slot]->open();
      },
      [this, slot](Deadline deadline) { listeners_[slot]->close(deadline); });
}

void Server::start_router_and_modules() {
  std::set<std::string> domains(config_.domains.begin(), config_.domains.end());
  router_ = std::make_unique<router::Router>(
      *shards_, domains, [this](const xmpp::Jid& bare) -> awaitable<bool> {
        storage::AccountKey key{bare.node(), bare.domain()};
        co_return co_await blocking_->run([&] { return storage_->accounts().exists(key); });
      });
  // Component domains are claimed before the modules start, so that the
  // disco module lists them among the server's items.
  components_ = std::make_unique<stream::ComponentHub>(
      *router_, config_.component_secrets,
      stream::ComponentHub::Limits{
          xml::ParserLimits{static_cast<std::size_t>(config_.max_stanza_bytes),
                            static_cast<std::size_t>(config_.max_xml_depth),
                            static_cast<std::size_t>(config_.max_attributes)},
          std::chrono::seconds(config_.handshake_timeout_seconds)});
  for (const auto& [domain, secret] : config_.component_secrets)
    features_.disco_items.push_back({domain, "", ""});
  // All built-in modules unless the config lists which.
  static const std::map<std::string, std::string> kNoOptions;
  for (const auto& info : modules::builtin_modules()) {
    if (config_.modules_set &&
        std::find(config_.modules.begin(), config_.modules.end(), info.name) == config_.modules.end())
      continue;
    auto opts = config_.module_options.find(info.name);
    modules::ModuleContext mctx{*router_, *storage_, *blocking_, config_, features_,
                                opts == config_.module_options.end() ? kNoOptions : opts->second};
    modules_.push_back(info.start(mctx));
    spdlog::debug("module {} started", info.name);
  }
}

void Server::start_streams() {
  auto certs = transport::ensure_certificate(config_.tls_cert, config_.tls_key, config_.data_dir,
                                             config_.domains);
  tls_ = transport::make_server_context(certs);
  if (config_.tls_session_ticket_seconds > 0)
    transport::enable_tls13_session_tickets(tls_->native_handle(),
                                            std::chrono::seconds(config_.tls_session_ticket_seconds));
  live_ = std::make_unique<stream::LiveStreams>(shard_count_);
  c2s_ = std::make_unique<stream::C2SContext>(*router_, *storage_, *blocking_, config_, tls_.get(),
                                              throttle_, *live_);
  for (unsigned s = 0; s < shard_count_; ++s)
    c2s_->parser_pools.push_back(std::make_unique<xml::ParserPool>());
  c2s_->read_buffers.assign(shard_count_, std::vector<char>(transport::kMaxTls13Record));
  c2s_->bound_features = features_.stream_features;
  c2s_->inline_bind = features_.inline_bind;
  c2s_->fake_salt_secret = load_or_make_secret(config_.data_dir + "/scram-secret");
  c2s_->pre_auth_features = features_.pre_auth_stream_features;
  c2s_->pre_auth_plain_features = features_.pre_auth_plain_stream_features;
  stream_metrics_ = std::make_unique<stream::StreamMetrics>(shard_count_);
  c2s_->metrics = stream_metrics_.get();

  std::vector<asio::any_io_executor> shard_executors;
  for (unsigned s = 0; s < shard_count_; ++s) shard_executors.push_back(shards_->loop(s).get_executor());
  bosh_ = std::make_unique<http::BoshRegistry>(*c2s_, shard_executors);
  http_ = std::make_unique<http::HttpContext>(http::HttpContext{
      *c2s_, config_.http_web_root.empty() ? TERN_WEB_ROOT : config_.http_web_root, bosh_.get(),
      [this] { return render_metrics(); }, features_.file_routes});
}

void Server::start_s2s() {
  auto certs = transport::ensure_certificate(config_.tls_cert, config_.tls_key, config_.data_dir,
                                             config_.domains);
  s2s_ = std::make_unique<stream::S2S>(*router_, *blocking_, config_, certs);
  s2s_->attach();
}

// Every link gets <system-shutdown/>; what is still queued for a link being
// set up bounces (docs/s2s.md).
void Server::close_s2s(Deadline deadline) {
  for (unsigned s = 0; s < shard_count_; ++s)
    run_on(shards_->loop(s), [this, s] { s2s_->close_all(s); }, deadline);
  if (!wait_until(deadline, [this] { return s2s_->open_streams() == 0; }))
    spdlog::warn("shutdown: {} server-to-server streams still open at the deadline",
                 s2s_->open_streams());
}

std::string Server::render_metrics() const {
  std::string out = stream_metrics_->render();
  out += fmt::format("# HELP tern_bosh_sessions BOSH sessions.\n# TYPE tern_bosh_sessions gauge\n"
                     "tern_bosh_sessions {}\n", bosh_->size());
  out += fmt::format("# HELP tern_bound_sessions Sessions bound to a resource.\n"
                     "# TYPE tern_bound_sessions gauge\ntern_bound_sessions {}\n",
                     router_->sessions().size());
  if (s2s_) {
    out += fmt::format("# HELP tern_s2s_streams Server-to-server streams open, both directions.\n"
                       "# TYPE tern_s2s_streams gauge\ntern_s2s_streams {}\n",
                       s2s_->open_streams());
  }
  long pages = 0, resident = 0;
  if (std::FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  out += fmt::format("# HELP tern_resident_memory_bytes Resident set size.\n"
                     "# TYPE tern_resident_memory_bytes gauge\ntern_resident_memory_bytes {}\n",
                     resident * 4096);
#ifdef __GLIBC__
  // What the allocator has handed out and not had back: unlike the resident
  // size, it falls when sessions end, so it shows what a session holds.
  const struct mallinfo2 heap = mallinfo2();
  out += fmt::format("# HELP tern_heap_in_use_bytes Bytes allocated and not freed (glibc malloc).\n"
                     "# TYPE tern_heap_in_use_bytes gauge\ntern_heap_in_use_bytes {}\n",
                     heap.uordblks + heap.hblkhd);
#endif
  out += fmt::format("# HELP tern_uptime_seconds Seconds since start.\n"
                     "# TYPE tern_uptime_seconds gauge\ntern_uptime_seconds {}\n",
                     std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - started_at_).count());
  return out;
}

// On each shard in turn; what the handlers route to sessions on other
// shards is posted there before close_streams posts the closing.
void Server::tell_modules_stopping(Deadline deadline) {
  for (unsigned s = 0; s < shard_count_; ++s) {
    run_on(shards_->loop(s), [this, s] {
      router::ServerStopping ev{s};
      router_->hooks().server_stopping.run(ev);
    }, deadline);
  }
}

// RFC 6120 §4.9.3.22: every stream gets <system-shutdown/>; a stream is gone
// once its peer answered the closing tag or the close grace ran out, and its
// session's end has run the session_ended hooks (last activity).
void Server::close_streams(Deadline deadline) {
  const auto began = Clock::now();
  components_->close_all();
  for (unsigned s = 0; s < shard_count_; ++s) {
    run_on(shards_->loop(s), [this, s] {
      live_->for_each(s, [](router::Session& session) {
        session.close_with_error(xmpp::StreamCondition::kSystemShutdown);
      });
    }, deadline);
  }
  if (wait_until(deadline, [this] { return live_->total() == 0; })) {
    spdlog::info("shutdown: every stream closed in {} ms", elapsed_ms(began));
  } else {
    spdlog::warn("shutdown: {} streams still open at the deadline", live_->total());
  }
}

// Nothing counted is queued or running, and every shard has run what was
// posted to it before this check (a closure posted without a count, e.g. a
// stanza delivery, may start counted work when it runs).
bool Server::is_idle(Deadline deadline) {
  auto counted_idle = [this] { return router_->pending_work() == 0 && blocking_->pending() == 0; };
  if (!counted_idle()) return false;
  for (unsigned s = 0; s < shard_count_; ++s)
    if (!run_on(shards_->loop(s), [] {}, deadline)) return false;
  return counted_idle();
}

// The storage writes modules queued — last activity of the sessions that
// just ended, offline messages still on their way — finish before the pool
// and the shards stop: nothing the server accepted is dropped.
void Server::wait_for_module_work(Deadline deadline) {
  const auto began = Clock::now();
  if (wait_until(deadline, [this, deadline] { return is_idle(deadline); })) {
    spdlog::info("shutdown: queued storage writes done in {} ms", elapsed_ms(began));
  } else {
    spdlog::warn("shutdown: storage writes not finished by the deadline "
                 "(server.shutdown_timeout_seconds = {}): {} jobs, {} module tasks dropped",
                 config_.shutdown_timeout_seconds, blocking_->pending(), router_->pending_work());
  }
}

awaitable<std::string> Server::answer_control(std::string command) {
  if (command == "ping") co_return "pong";
  if (command == "status") {
    auto uptime = std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - started_at_);
    auto out = fmt::format("running; domains {}; shards {}; streams {}; bound sessions {}; uptime {}s",
                           fmt::join(config_.domains, ","), shard_count_, live_->total(),
                           router_->sessions().size(), uptime.count());
    // Federation: one line per server-to-server stream and how it authenticated.
    if (s2s_) {
      auto links = s2s_->describe_links();
      // One line: the control protocol answers with a single line.
      out += fmt::format("; s2s streams {}", links.size());
      if (!links.empty()) out += fmt::format(": {}", fmt::join(links, " | "));
    }
    auto components = components_->describe();
    if (!components.empty()) out += fmt::format("; components: {}", fmt::join(components, " | "));
    co_return out;
  }
  if (command.rfind("user-del ", 0) == 0) {
    auto who = xmpp::Jid::parse(command.substr(9));
    if (!who || !who->has_node() || !router_->is_local_domain(who->domain()))
      co_return "error: not an account of this server";
    auto removal = modules::roster::remove_account(modules::Host(*router_), *storage_, *blocking_, who->bare(),
                                                   "account deleted");
    switch (co_await std::move(removal)) {
      case modules::roster::AccountRemoval::kRemoved:
        co_return "deleted";
      case modules::roster::AccountRemoval::kNoSuchAccount:
        co_return "no such user";
      case modules::roster::AccountRemoval::kFailed:
        break;
    }
    co_return "error: the store failed (see the server log)";
  }
  co_return "error: unknown command";
}

int serve(const core::Config& config) {
  // OpenSSL writes to sockets with write(2); a peer that hung up must give
  // an error, not kill the process.
  std::signal(SIGPIPE, SIG_IGN);
  // The handlers go in before anything starts: a SIGTERM that comes as soon
  // as "tern ready" is out (or during start) is a clean stop, not a kill.
  asio::io_context main_loop;
  asio::signal_set signals(main_loop, SIGTERM, SIGINT);
  int signal_number = 0;
  signals.async_wait([&](const boost::system::error_code&, int sig) { signal_number = sig; });

  Server server(config);
  server.start();
  std::cout << "tern ready:" << server.listening() << std::endl;
  spdlog::info("serving {} on{} with {} shard(s)", fmt::join(config.domains, ", "),
               server.listening(), server.shard_count());
  // The main thread only waits for the signal.
  main_loop.run();
  spdlog::info("signal {}: shutting down", signal_number);
  const auto began = Clock::now();
  server.stop();
  spdlog::info("stopped in {} ms", elapsed_ms(began));
  return 0;
}

}  // namespace tern::server
