#include "server/steps.h"

#include "core/log.h"

namespace tern::server {

void Steps::add(std::string name, Start start, Stop stop) {
  steps_.push_back({std::move(name), std::move(start), std::move(stop)});
}

void Steps::start_all(Clock::duration cleanup_budget) {
  for (; started_ < steps_.size(); ++started_) {
    auto& step = steps_[started_];
    try {
      step.start();
    } catch (...) {
      spdlog::debug("start: {} failed; stopping what started", step.name);
      stop_all(Clock::now() + cleanup_budget);
      throw;
    }
    spdlog::debug("start: {}", step.name);
  }
}

void Steps::stop_all(Deadline deadline) {
  while (started_ > 0) {
    auto& step = steps_[--started_];
    if (!step.stop) continue;
    const auto began = Clock::now();
    step.stop(deadline);
    spdlog::debug("stop: {} ({} ms)", step.name,
                  std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - began).count());
  }
}

}  // namespace tern::server
