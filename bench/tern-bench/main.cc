// tern-bench: an XMPP load generator. One process, --threads threads each
// with its own io_context, thousands of connections per thread as C++20
// coroutines; see `tern-bench --help` and bench/tern-bench/README.md.
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <sys/resource.h>

#include <cstdio>

#include "tern-bench/options.h"
#include "tern-bench/connection.h"
#include "tern-bench/scenarios.h"

namespace tern::bench {

void add_common_rows(Report& r, const Runner& runner, const Totals& t, double cpu_seconds,
                     double wall_seconds) {
  const Options& o = runner.opt();
  r.add_failures(t.failures);
  r.add_text("transport", o.transport == Transport::kWs ? "ws" : "tcp", "transport");
  r.add_text("tls", o.tls ? "starttls" : "plain", "TLS");
  r.add_text("mech", mech_name(o.mech), "SASL mechanism");
  r.add_int("threads", o.threads, "generator threads");
  r.add("wall_seconds", wall_seconds, "wall time", "s");
  r.add("generator_cpu_seconds", cpu_seconds, "generator CPU (user+sys)", "s");
  r.add("generator_cpu_percent", wall_seconds > 0 ? 100.0 * cpu_seconds / wall_seconds : 0,
        "generator CPU", "%");
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  r.add_int("generator_max_rss_kib", ru.ru_maxrss, "generator max RSS", "KiB");
}

namespace {

SSL_CTX* make_client_context(bool resume) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (!ctx) return nullptr;
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);  // a load test, not a security check
  // Small idle footprint, writes of whatever is queued.
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                            SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  if (resume) {
    // Each connection keeps its own latest ticket (Connection::on_new_session).
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(ctx, Connection::on_new_session);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION);
  } else {
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_TICKET);
  }
  return ctx;
}

// Many connections need many descriptors: take the hard limit.
void raise_fd_limit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

}  // namespace
}  // namespace tern::bench

int main(int argc, char** argv) {
  using namespace tern::bench;
  int code = 0;
  auto parsed = parse_options(argc, argv, &code);
  if (!parsed) return code;
  signal(SIGPIPE, SIG_IGN);
  raise_fd_limit();

  Env env;
  env.opt = *parsed;
  if (env.opt.scenario == "pep") {
    env.opt.initial_presence = tern::bench::pep_initial_presence();
    env.opt.disco_features = tern::bench::pep_features();
  }
  const Options& o = env.opt;
  boost::system::error_code ec;
  auto addr = tern::asio::ip::make_address(o.host, ec);
  if (ec) {
    tern::asio::io_context ioc;
    tern::tcp::resolver resolver(ioc);
    auto results = resolver.resolve(o.host, std::to_string(o.port), ec);
    if (ec || results.empty()) {
      std::fprintf(stderr, "tern-bench: cannot resolve %s: %s\n", o.host.c_str(),
                   ec.message().c_str());
      return 2;
    }
    env.server = *results.begin();
  } else {
    env.server = tern::tcp::endpoint(addr, static_cast<unsigned short>(o.port));
  }
  for (int i = 1; i <= o.sources; ++i)
    env.sources.push_back(tern::asio::ip::make_address("127.0.0." + std::to_string(i)));
  env.ssl_ctx = make_client_context(env.opt.tls_resume);
  if (!env.ssl_ctx) {
    std::fprintf(stderr, "tern-bench: cannot make a TLS context\n");
    return 2;
  }
  env.hard_deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                         std::chrono::duration<double>(o.max_seconds));

  int rc = 2;
  if (o.scenario == "hold") rc = run_hold(env);
  else if (o.scenario == "login") rc = run_login(env);
  else if (o.scenario == "chat") rc = run_chat(env);
  else if (o.scenario == "presence") rc = run_presence(env);
  else if (o.scenario == "pep") rc = run_pep(env);
  else if (o.scenario == "reconnect") rc = run_reconnect(env);
  else if (o.scenario == "muc") rc = run_muc(env);
  SSL_CTX_free(env.ssl_ctx);
  return rc;
}
