#include "core/shards.h"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <stdexcept>

namespace tern::core {
namespace {

// Regression: a handler that threw on a shard (a storage error from work run
// in place) escaped the shard's thread and terminated the process.
TEST(Shards, AHandlerThatThrowsIsLoggedAndTheShardRunsOn) {
  Shards shards(1);
  shards.start();
  asio::post(shards.loop(0), [] { throw std::runtime_error("sqlite error 5: database is locked"); });
  std::promise<int> ran;
  asio::post(shards.loop(0), [&ran] { ran.set_value(Shards::current()); });
  auto later = ran.get_future();
  ASSERT_EQ(later.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_EQ(later.get(), 0);
  shards.stop();
}

}  // namespace
}  // namespace tern::core
