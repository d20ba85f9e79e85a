#include "core/serial_queue.h"

#include <gtest/gtest.h>

#include <chrono>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

namespace tern::core {
namespace {

awaitable<void> wait_then_record(asio::io_context& io, std::vector<std::string>& log, std::string tag,
                                 int ms) {
  asio::steady_timer timer(io, std::chrono::milliseconds(ms));
  co_await timer.async_wait(use_awaitable);
  log.push_back(tag);
}

// A task that waits `ms` on a timer (as storage would) and then records `tag`.
SerialQueue::Task slow(asio::io_context& io, std::vector<std::string>& log, std::string tag, int ms) {
  return [&io, &log, tag, ms]() -> awaitable<void> { return wait_then_record(io, log, tag, ms); };
}

TEST(SerialQueue, RunsItemsOfOneKeyInOrderWhateverTheyAwait) {
  asio::io_context io;
  SerialQueue queue(io.get_executor());
  std::vector<std::string> log;
  queue.push_back("a@x", slow(io, log, "1", 30));
  queue.push_back("a@x", slow(io, log, "2", 0));
  queue.push_back("a@x", slow(io, log, "3", 10));
  io.run();
  EXPECT_EQ(log, (std::vector<std::string>{"1", "2", "3"}));
  EXPECT_TRUE(queue.is_idle());
}

TEST(SerialQueue, KeysDoNotWaitForEachOther) {
  asio::io_context io;
  SerialQueue queue(io.get_executor());
  std::vector<std::string> log;
  queue.push_back("a@x", slow(io, log, "a", 50));
  queue.push_back("b@x", slow(io, log, "b", 0));
  io.run();
  EXPECT_EQ(log, (std::vector<std::string>{"b", "a"}));
}

TEST(SerialQueue, RunInOrderRunsAtOnceWhenTheKeyIsIdle) {
  asio::io_context io;
  SerialQueue queue(io.get_executor());
  std::vector<std::string> log;
  queue.run_in_order("a@x", [&] { log.push_back("now"); });
  EXPECT_EQ(log, (std::vector<std::string>{"now"}));  // before the loop ran
  EXPECT_TRUE(queue.is_idle());                       // and nothing was queued
}

TEST(SerialQueue, RunInOrderWaitsBehindWorkInFlight) {
  asio::io_context io;
  SerialQueue queue(io.get_executor());
  std::vector<std::string> log;
  queue.push_back("a@x", slow(io, log, "storage", 20));
  queue.run_in_order("a@x", [&] { log.push_back("message"); });
  queue.run_in_order("b@x", [&] { log.push_back("other sender"); });
  EXPECT_EQ(log, (std::vector<std::string>{"other sender"}));
  EXPECT_TRUE(queue.is_busy("a@x"));
  io.run();
  EXPECT_EQ(log, (std::vector<std::string>{"other sender", "storage", "message"}));
}

TEST(SerialQueue, PushNextGoesAheadOfWhatWasQueuedBehindTheRunningItem) {
  asio::io_context io;
  SerialQueue queue(io.get_executor());
  std::vector<std::string> log;
  queue.push_back("a@x", [&]() -> awaitable<void> {
    co_await wait_then_record(io, log, "first", 10);
    // Work the running item sets off: part of it, before "later".
    queue.push_next("a@x", slow(io, log, "child 1", 10));
    queue.push_next("a@x", slow(io, log, "child 2", 0));
  });
  queue.push_back("a@x", slow(io, log, "later", 0));
  io.run();
  EXPECT_EQ(log, (std::vector<std::string>{"first", "child 1", "child 2", "later"}));
}

TEST(SerialQueue, AnItemThatThrowsIsLoggedAndDoesNotStallTheQueue) {
  auto out = std::make_shared<std::ostringstream>();
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>(
      "test", std::make_shared<spdlog::sinks::ostream_sink_mt>(*out)));
  asio::io_context io;
  SerialQueue queue(io.get_executor());
  std::vector<std::string> log;
  queue.push_back("a@x", []() -> awaitable<void> {
    throw std::runtime_error("storage is down");
    co_return;
  });
  queue.push_back("a@x", slow(io, log, "after", 0));
  io.run();
  spdlog::set_default_logger(previous);
  EXPECT_EQ(log, (std::vector<std::string>{"after"}));
  EXPECT_EQ(queue.failures(), 1u);
  EXPECT_NE(out->str().find("storage is down"), std::string::npos) << out->str();
  EXPECT_NE(out->str().find("a@x"), std::string::npos);
  EXPECT_TRUE(queue.is_idle());
}

}  // namespace
}  // namespace tern::core
