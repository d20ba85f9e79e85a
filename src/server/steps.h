// The server's parts start as named steps, in order, and stop in reverse:
// what started last (the listeners) stops first, what everything else stands
// on (storage, the shard loops) stops last. A stop step may wait — for
// streams to close, for queued storage writes — but never past the one
// deadline the whole stop shares.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace tern::server {

using Clock = std::chrono::steady_clock;
using Deadline = Clock::time_point;

class Steps {
 public:
  using Start = std::function<void()>;
  using Stop = std::function<void(Deadline)>;

  // `stop` may be empty: a step with nothing to stop (its objects simply
  // outlive the steps after it).
  void add(std::string name, Start start, Stop stop = {});
  // Starts every step in order. When one throws, the steps already started
  // are stopped (last first, within `cleanup_budget`) and the exception goes on.
  void start_all(Clock::duration cleanup_budget = std::chrono::seconds(5));
  // Stops the started steps, last first; a second call does nothing.
  void stop_all(Deadline deadline);
  std::size_t started() const { return started_; }

 private:
  struct Step {
    std::string name;
    Start start;
    Stop stop;
  };
  std::vector<Step> steps_;
  std::size_t started_ = 0;
};

}  // namespace tern::server
