#include "router/session_registry.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "router/fake_session.h"

namespace tern::router {
namespace {

using fakes::FakeSession;
using Set = std::set<SessionPtr>;

Set as_set(const std::vector<SessionPtr>& v) { return Set(v.begin(), v.end()); }

xmpp::Jid jid(std::string_view text) { return *xmpp::Jid::parse(text); }

TEST(SessionRegistry, EmptyRegistryFindsNothing) {
  SessionRegistry reg;
  EXPECT_EQ(reg.find(jid("alice@example.com/phone")), nullptr);
  EXPECT_TRUE(reg.sessions_of(jid("alice@example.com")).empty());
  EXPECT_EQ(reg.resource_count(jid("alice@example.com")), 0u);
  EXPECT_EQ(reg.size(), 0u);
}

TEST(SessionRegistry, BindThenFindByFullJid) {
  SessionRegistry reg;
  auto phone = FakeSession::make("alice@example.com/phone");
  EXPECT_EQ(reg.bind(phone), nullptr);
  EXPECT_EQ(reg.find(jid("alice@example.com/phone")), phone);
  EXPECT_EQ(reg.size(), 1u);
}

TEST(SessionRegistry, FindNeedsTheExactResource) {
  SessionRegistry reg;
  reg.bind(FakeSession::make("alice@example.com/phone"));
  EXPECT_EQ(reg.find(jid("alice@example.com/laptop")), nullptr);
  EXPECT_EQ(reg.find(jid("alice@example.com")), nullptr);        // a bare JID names no session
  EXPECT_EQ(reg.find(jid("alice@example.com/Phone")), nullptr);  // resources keep their case
  EXPECT_EQ(reg.find(jid("alice@example.org/phone")), nullptr);
  EXPECT_EQ(reg.find(jid("bob@example.com/phone")), nullptr);
}

TEST(SessionRegistry, FindUsesNormalisedNodeAndDomain) {
  SessionRegistry reg;
  auto phone = FakeSession::make("alice@example.com/phone");
  reg.bind(phone);
  EXPECT_EQ(reg.find(jid("ALICE@Example.COM/phone")), phone);
}

TEST(SessionRegistry, SameFullJidDisplacesTheOldSession) {
  SessionRegistry reg;
  auto old_session = FakeSession::make("alice@example.com/phone");
  auto new_session = FakeSession::make("alice@example.com/phone");
  ASSERT_EQ(reg.bind(old_session), nullptr);
  EXPECT_EQ(reg.bind(new_session), old_session);
  EXPECT_EQ(reg.find(jid("alice@example.com/phone")), new_session);
  EXPECT_EQ(reg.resource_count(jid("alice@example.com")), 1u);
  EXPECT_EQ(reg.size(), 1u);
  // The registry does not close anything itself: the caller does.
  EXPECT_TRUE(old_session->closed_with().empty());
}

TEST(SessionRegistry, DifferentResourceDisplacesNothing) {
  SessionRegistry reg;
  auto phone = FakeSession::make("alice@example.com/phone");
  auto laptop = FakeSession::make("alice@example.com/laptop");
  EXPECT_EQ(reg.bind(phone), nullptr);
  EXPECT_EQ(reg.bind(laptop), nullptr);
  EXPECT_EQ(reg.find(jid("alice@example.com/phone")), phone);
  EXPECT_EQ(reg.find(jid("alice@example.com/laptop")), laptop);
  EXPECT_EQ(reg.resource_count(jid("alice@example.com")), 2u);
}

TEST(SessionRegistry, UnbindRemovesTheSession) {
  SessionRegistry reg;
  auto phone = FakeSession::make("alice@example.com/phone");
  auto laptop = FakeSession::make("alice@example.com/laptop");
  reg.bind(phone);
  reg.bind(laptop);
  reg.unbind(*phone);
  EXPECT_EQ(reg.find(jid("alice@example.com/phone")), nullptr);
  EXPECT_EQ(reg.find(jid("alice@example.com/laptop")), laptop);
  EXPECT_EQ(as_set(reg.sessions_of(jid("alice@example.com"))), (Set{laptop}));
  EXPECT_EQ(reg.size(), 1u);
  reg.unbind(*laptop);
  EXPECT_TRUE(reg.sessions_of(jid("alice@example.com")).empty());
  EXPECT_EQ(reg.resource_count(jid("alice@example.com")), 0u);
  EXPECT_EQ(reg.size(), 0u);
}

TEST(SessionRegistry, DisplacedSessionUnbindingLeavesTheNewOneBound) {
  // The old stream closes after the new one bound the same resource; its
  // unbind must not take the newcomer down with it.
  SessionRegistry reg;
  auto old_session = FakeSession::make("alice@example.com/phone");
  auto new_session = FakeSession::make("alice@example.com/phone");
  reg.bind(old_session);
  ASSERT_EQ(reg.bind(new_session), old_session);
  reg.unbind(*old_session);
  EXPECT_EQ(reg.find(jid("alice@example.com/phone")), new_session);
  EXPECT_EQ(reg.resource_count(jid("alice@example.com")), 1u);
  EXPECT_EQ(reg.size(), 1u);
}

TEST(SessionRegistry, UnbindOfANeverBoundSessionChangesNothing) {
  SessionRegistry reg;
  auto bound = FakeSession::make("alice@example.com/phone");
  auto stranger = FakeSession::make("alice@example.com/phone");  // same JID, never bound
  auto other_account = FakeSession::make("carol@example.com/phone");
  reg.bind(bound);
  reg.unbind(*stranger);
  reg.unbind(*other_account);
  EXPECT_EQ(reg.find(jid("alice@example.com/phone")), bound);
  EXPECT_EQ(reg.size(), 1u);
}

TEST(SessionRegistry, UnbindTwiceIsHarmless) {
  SessionRegistry reg;
  auto phone = FakeSession::make("alice@example.com/phone");
  reg.bind(phone);
  reg.unbind(*phone);
  reg.unbind(*phone);
  EXPECT_EQ(reg.size(), 0u);
  // And the resource can be bound again afterwards.
  auto again = FakeSession::make("alice@example.com/phone");
  EXPECT_EQ(reg.bind(again), nullptr);
  EXPECT_EQ(reg.find(jid("alice@example.com/phone")), again);
}

TEST(SessionRegistry, SessionsOfListsOnlyThatAccount) {
  SessionRegistry reg;
  auto a1 = FakeSession::make("alice@example.com/phone");
  auto a2 = FakeSession::make("alice@example.com/laptop");
  auto other_domain = FakeSession::make("alice@example.org/phone");
  auto other_node = FakeSession::make("bob@example.com/phone");
  for (auto& s : {a1, a2, other_domain, other_node}) reg.bind(s);
  EXPECT_EQ(as_set(reg.sessions_of(jid("alice@example.com"))), (Set{a1, a2}));
  // A full JID stands for its account.
  EXPECT_EQ(as_set(reg.sessions_of(jid("alice@example.com/anything"))), (Set{a1, a2}));
  EXPECT_EQ(reg.resource_count(jid("alice@example.com")), 2u);
  EXPECT_EQ(reg.resource_count(jid("alice@example.org")), 1u);
  EXPECT_EQ(reg.resource_count(jid("bob@example.com")), 1u);
  EXPECT_EQ(reg.resource_count(jid("carol@example.com")), 0u);
  EXPECT_EQ(reg.size(), 4u);
}

TEST(SessionRegistry, SessionsOfIsASnapshot) {
  SessionRegistry reg;
  auto phone = FakeSession::make("alice@example.com/phone");
  reg.bind(phone);
  auto snapshot = reg.sessions_of(jid("alice@example.com"));
  reg.unbind(*phone);
  EXPECT_EQ(as_set(snapshot), (Set{phone}));
  EXPECT_TRUE(reg.sessions_of(jid("alice@example.com")).empty());
}

TEST(SessionRegistry, ForEachVisitsEverySessionOnce) {
  SessionRegistry reg;
  std::vector<SessionPtr> bound;
  for (int i = 0; i < 50; ++i) {
    auto s =
        FakeSession::make("user" + std::to_string(i % 17) + "@example.com/r" + std::to_string(i));
    reg.bind(s);
    bound.push_back(s);
  }
  std::vector<SessionPtr> seen;
  reg.for_each([&](const SessionPtr& s) { seen.push_back(s); });
  EXPECT_EQ(seen.size(), 50u);
  EXPECT_EQ(std::set<SessionPtr>(seen.begin(), seen.end()),
            std::set<SessionPtr>(bound.begin(), bound.end()));
  EXPECT_EQ(reg.size(), 50u);
}

TEST(SessionRegistry, ForEachMayCallBackIntoTheRegistry) {
  // for_each runs the callback outside the stripe locks, so a callback that
  // unbinds (e.g. closing every session at shutdown) does not deadlock.
  SessionRegistry reg;
  reg.bind(FakeSession::make("alice@example.com/phone"));
  reg.bind(FakeSession::make("bob@example.com/phone"));
  int visited = 0;
  reg.for_each([&](const SessionPtr& s) {
    ++visited;
    EXPECT_EQ(reg.find(s->jid()), s);
    reg.unbind(*s);
  });
  EXPECT_EQ(visited, 2);
  EXPECT_EQ(reg.size(), 0u);
}

TEST(SessionRegistry, ConcurrentBindAndUnbindOfDistinctAccounts) {
  SessionRegistry reg;
  constexpr int kThreads = 4;
  constexpr int kAccounts = 40;  // per thread
  constexpr int kRounds = 50;
  std::atomic<int> errors{0};
  std::vector<std::vector<SessionPtr>> kept(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<SessionPtr> sessions;
      for (int a = 0; a < kAccounts; ++a)
        sessions.push_back(FakeSession::make("t" + std::to_string(t) + "u" + std::to_string(a) +
                                             "@example.com/res"));
      for (int round = 0; round < kRounds; ++round) {
        for (auto& s : sessions)
          if (reg.bind(s) != nullptr) ++errors;
        for (auto& s : sessions) {
          if (reg.find(s->jid()) != s) ++errors;
          if (reg.resource_count(s->jid()) != 1) ++errors;
        }
        for (auto& s : sessions) reg.unbind(*s);
        for (auto& s : sessions)
          if (reg.find(s->jid()) != nullptr) ++errors;
        (void)reg.size();  // walks every stripe while the others write
      }
      // Leave every other account bound, to count at the end.
      for (int a = 0; a < kAccounts; a += 2) {
        reg.bind(sessions[a]);
        kept[t].push_back(sessions[a]);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(reg.size(), static_cast<std::size_t>(kThreads * kAccounts / 2));
  for (auto& list : kept)
    for (auto& s : list) EXPECT_EQ(reg.find(s->jid()), s);
}

}  // namespace
}  // namespace tern::router

namespace tern::router {
namespace {

struct CountedState {
  static inline int alive = 0;
  CountedState() { ++alive; }
  ~CountedState() { --alive; }
  int value = 0;
};
struct OtherState {
  std::string text;
};

TEST(SessionStateSlots, EachTypeHasItsOwnStateMadeOnFirstUseAndFreedWithTheSession) {
  {
    auto s = fakes::FakeSession::make("alice@example.com/a");
    EXPECT_EQ(s->module_state().find<CountedState>(), nullptr);
    s->module_state().get<CountedState>().value = 7;
    s->module_state().get<OtherState>().text = "x";
    EXPECT_EQ(CountedState::alive, 1);
    EXPECT_EQ(s->module_state().get<CountedState>().value, 7);
    ASSERT_NE(s->module_state().find<OtherState>(), nullptr);
    EXPECT_EQ(s->module_state().find<OtherState>()->text, "x");
    auto other = fakes::FakeSession::make("bob@example.com/b");
    EXPECT_EQ(other->module_state().find<CountedState>(), nullptr);
  }
  EXPECT_EQ(CountedState::alive, 0);
}

}  // namespace
}  // namespace tern::router
