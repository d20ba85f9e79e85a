#include "server/steps.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace tern::server {
namespace {

struct Recorder {
  std::vector<std::string> log;
  Steps::Start start(std::string name) {
    return [this, name] { log.push_back("start " + name); };
  }
  Steps::Stop stop(std::string name) {
    return [this, name](Deadline) { log.push_back("stop " + name); };
  }
};

TEST(StepsTest, StartsInOrderAndStopsInReverse) {
  Recorder r;
  Steps steps;
  steps.add("storage", r.start("storage"), r.stop("storage"));
  steps.add("shards", r.start("shards"), r.stop("shards"));
  steps.add("listeners", r.start("listeners"), r.stop("listeners"));
  steps.start_all();
  EXPECT_EQ(steps.started(), 3u);
  steps.stop_all(Clock::now());
  EXPECT_EQ(r.log, (std::vector<std::string>{"start storage", "start shards", "start listeners",
                                             "stop listeners", "stop shards", "stop storage"}));
  EXPECT_EQ(steps.started(), 0u);
}

TEST(StepsTest, ASecondStopDoesNothing) {
  Recorder r;
  Steps steps;
  steps.add("one", r.start("one"), r.stop("one"));
  steps.start_all();
  steps.stop_all(Clock::now());
  steps.stop_all(Clock::now());
  EXPECT_EQ(r.log, (std::vector<std::string>{"start one", "stop one"}));
}

TEST(StepsTest, AStepWithoutStopIsSkippedWhenStopping) {
  Recorder r;
  Steps steps;
  steps.add("first", r.start("first"), r.stop("first"));
  steps.add("second", r.start("second"));
  steps.start_all();
  steps.stop_all(Clock::now());
  EXPECT_EQ(r.log, (std::vector<std::string>{"start first", "start second", "stop first"}));
}

// A port already taken: what started is stopped again, what did not start
// is not stopped, and the startup error reaches the caller.
TEST(StepsTest, AFailedStartStopsWhatStartedAndRethrows) {
  Recorder r;
  Steps steps;
  steps.add("storage", r.start("storage"), r.stop("storage"));
  steps.add("shards", r.start("shards"), r.stop("shards"));
  steps.add("listen.c2s", [] { throw std::runtime_error("port taken"); }, r.stop("listen.c2s"));
  steps.add("control socket", r.start("control socket"), r.stop("control socket"));
  EXPECT_THROW(steps.start_all(), std::runtime_error);
  EXPECT_EQ(r.log, (std::vector<std::string>{"start storage", "start shards", "stop shards",
                                             "stop storage"}));
  EXPECT_EQ(steps.started(), 0u);
}

TEST(StepsTest, EveryStopStepGetsTheSameDeadline) {
  Steps steps;
  std::vector<Deadline> seen;
  for (int i = 0; i < 3; ++i)
    steps.add("step", [] {}, [&seen](Deadline d) { seen.push_back(d); });
  steps.start_all();
  const Deadline deadline = Clock::now() + std::chrono::seconds(30);
  steps.stop_all(deadline);
  EXPECT_EQ(seen, (std::vector<Deadline>{deadline, deadline, deadline}));
}

}  // namespace
}  // namespace tern::server
