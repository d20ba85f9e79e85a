// Typed hooks: priority order, the first kHandled stops the chain, tokens
// remove handlers, and a handler that throws is counted and skipped.
#include "core/hook.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace tern::core {
namespace {

struct Event {
  std::string seen;
};

TEST(Hook, RunsByPriorityAndStopsAtTheFirstHandled) {
  Hook<Event> hook;
  auto low = hook.add([](Event& e) { e.seen += "low,"; return Verdict::kPass; }, 0);
  auto high = hook.add([](Event& e) { e.seen += "high,"; return Verdict::kPass; }, 10);
  auto mid = hook.add([](Event& e) { e.seen += "mid,"; return Verdict::kHandled; }, 5);
  Event e;
  EXPECT_EQ(hook.run(e), Verdict::kHandled);
  EXPECT_EQ(e.seen, "high,mid,");
}

TEST(Hook, DroppedTokenRemovesItsHandler) {
  Hook<Event> hook;
  auto a = hook.add([](Event& e) { e.seen += "a,"; return Verdict::kPass; });
  {
    auto b = hook.add([](Event& e) { e.seen += "b,"; return Verdict::kPass; });
  }
  Event e;
  hook.run(e);
  EXPECT_EQ(e.seen, "a,");
}

TEST(Hook, AThrowingHandlerIsCountedAndTheChainGoesOn) {
  Hook<Event> hook;
  auto bad = hook.add([](Event&) -> Verdict { throw std::runtime_error("module bug"); }, 10);
  auto good = hook.add([](Event& e) { e.seen += "good,"; return Verdict::kHandled; }, 0);
  Event e;
  EXPECT_EQ(hook.run(e), Verdict::kHandled);
  EXPECT_EQ(e.seen, "good,");
  EXPECT_EQ(hook.failures(), 1u);
}

TEST(Hook, AHandlerThrowingANonStandardExceptionIsCountedToo) {
  Hook<Event> hook;
  auto bad = hook.add([](Event&) -> Verdict { throw 42; }, 10);
  auto good = hook.add([](Event& e) { e.seen += "good,"; return Verdict::kPass; }, 0);
  Event e;
  EXPECT_EQ(hook.run(e), Verdict::kPass);
  EXPECT_EQ(e.seen, "good,");
  EXPECT_EQ(hook.failures(), 1u);
}

}  // namespace
}  // namespace tern::core
