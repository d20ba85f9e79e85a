// Thread-per-core event loops. A connection and its session live on one shard
// for life, so session state needs no locks; work for another shard is posted
// to that shard's io_context.
#pragma once

#include <memory>
#include <thread>
#include <vector>

#include "core/asio.h"

namespace tern::core {

class Shards {
 public:
  explicit Shards(unsigned count);
  ~Shards();
  unsigned size() const { return static_cast<unsigned>(loops_.size()); }
  asio::io_context& loop(unsigned i) { return *loops_[i]; }
  // Runs every loop on its own thread; returns at once.
  void start();
  // Stops the loops and joins the threads.
  void stop();
  // After stop(): destroys the loops and with them every pending handler and
  // coroutine frame, so sessions die while what they point to still lives.
  void destroy_loops();
  // The shard the calling thread runs, or -1 off the shards.
  static int current();

 private:
  std::vector<std::unique_ptr<asio::io_context>> loops_;
  std::vector<std::unique_ptr<asio::executor_work_guard<asio::io_context::executor_type>>> guards_;
  std::vector<std::thread> threads_;
};

}  // namespace tern::core
