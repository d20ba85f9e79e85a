// One generator thread: its own io_context, parser pool, read buffer, SCRAM
// key cache and statistics. Connections stay on the worker that made them.
#pragma once

#include <openssl/ssl.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/asio.h"
#include "tern-bench/connection.h"
#include "tern-bench/options.h"
#include "tern-bench/stats.h"
#include "xml/stream_parser.h"

namespace tern::bench {

// Read-only after start: shared by all workers.
struct Env {
  Options opt;
  tcp::endpoint server;
  std::vector<asio::ip::address> sources;  // empty: let the kernel choose
  SSL_CTX* ssl_ctx = nullptr;
  Clock::time_point hard_deadline;  // --max-seconds from the start
};

// Client keys derived from a password for one (hash, salt, iterations):
// PBKDF2 runs once per salt, as real clients cache it per account.
struct ScramKeys {
  std::string salt;
  int iterations = 0;
  std::string client_key, server_key;
};

struct Worker {
  Worker(int id, const Env& env);
  ~Worker();

  // Runs the io_context on its own thread until stop_and_join().
  void start();
  // Runs fn on the worker thread.
  void post(std::function<void()> fn);
  // Stops sending, closes every connection, lets coroutines finish (bounded),
  // joins the thread.
  void stop_and_join();

  // A connection owned by this worker for the whole run.
  Connection& add_connection(std::int64_t user_index);

  int id;
  const Env& env;
  asio::io_context ioc{1};
  xml::ParserPool parser_pool{256};
  std::vector<char> read_buf = std::vector<char>(64 * 1024);
  std::unordered_map<std::string, ScramKeys> scram_cache;
  WorkerStats stats;
  std::vector<std::unique_ptr<Connection>> connections;
  std::size_t next_source = 0;
  std::uint64_t resource_seq = 0;  // resources are unique per run: no conflicts
  // A client's WebSocket frame mask (RFC 6455 §5.3): xorshift32, cheap per
  // message; the masks only have to differ, not to be secret, on loopback.
  std::uint32_t next_ws_mask() {
    std::uint32_t x = ws_mask_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return ws_mask_state = x;
  }
  std::uint32_t ws_mask_state = 0x9E3779B9u;
  bool stopping = false;   // set on the worker thread
  bool sending = false;    // chat/presence: senders active

 private:
  awaitable<void> watchdog();
  asio::steady_timer watchdog_timer_{ioc};
  std::thread thread_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard_;
};

// Spawns a coroutine on the worker; exceptions are logged, never thrown.
void spawn(Worker& w, awaitable<void> coro);

}  // namespace tern::bench
