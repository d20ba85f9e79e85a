#include "core/shards.h"

#include <pthread.h>

#include <spdlog/spdlog.h>

#include <exception>
#include <string>

namespace tern::core {
namespace {
// Set once by each shard thread for itself; read only by that thread.
thread_local int current_shard = -1;
// Runs `loop` until it is stopped. A handler that throws (a StorageError
// from work that should have gone through the blocking pool, a bug) is
// logged and the loop goes on: left to escape the thread, it would
// terminate the process and every session on every shard with it.
void run_loop(asio::io_context& loop, unsigned shard) {
  for (;;) {
    try {
      loop.run();
      return;
    } catch (const std::exception& e) {
      spdlog::error("shard {}: a handler threw: {}", shard, e.what());
    } catch (...) {
      spdlog::error("shard {}: a handler threw a non-standard exception", shard);
    }
  }
}

}  // namespace

Shards::Shards(unsigned count) {
  if (count == 0) count = 1;
  for (unsigned i = 0; i < count; ++i) {
    // concurrency hint 1: each loop is run by exactly one thread, so Asio
    // can skip its internal locking.
    loops_.push_back(std::make_unique<asio::io_context>(1));
    guards_.push_back(std::make_unique<asio::executor_work_guard<asio::io_context::executor_type>>(
        loops_.back()->get_executor()));
  }
}

Shards::~Shards() { stop(); }

void Shards::start() {
  for (unsigned i = 0; i < loops_.size(); ++i) {
    threads_.emplace_back([this, i] {
      current_shard = static_cast<int>(i);
      std::string name = "tern-shard-" + std::to_string(i);
      pthread_setname_np(pthread_self(), name.c_str());
      run_loop(*loops_[i], i);
    });
  }
}

void Shards::stop() {
  guards_.clear();
  for (auto& l : loops_) l->stop();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

void Shards::destroy_loops() {
  stop();
  loops_.clear();
}

int Shards::current() { return current_shard; }

}  // namespace tern::core
