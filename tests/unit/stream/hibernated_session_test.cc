// A hibernated session on a real router: what reaches it is kept, and when
// it ends (timeout, full queue, shutdown) nothing kept is lost.
#include "stream/hibernated_session.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "router/router_harness.h"
#include "storage/storage.h"
#include "storage/temp_dir.h"

namespace tern::stream {
namespace {

using namespace std::chrono_literals;
using router::fakes::FakeSession;

constexpr std::string_view kPhone = "alice@example.com/phone";

std::string chat(int n) {
  return fmt::format("<message from='bob@example.com/desk' to='alice@example.com/phone' type='chat' "
                     "id='m{}'><body>{}</body></message>",
                     n, n);
}

class HibernatedSessionTest : public ::testing::Test {
 protected:
  // Ended as the server's shutdown ends them: a pending timeout must not
  // outlive the context it refers to.
  void TearDown() override {
    for (auto& s : made) h.run_on(0, [&] { s->close_with_error(xmpp::StreamCondition::kSystemShutdown); });
  }

  // The phone's connection broke with `inbound` stanzas handled; a laptop
  // of the same account is online.
  std::shared_ptr<HibernatedSession> hibernate(std::chrono::seconds timeout, std::size_t queue_max = 1000) {
    laptop = h.bind("alice@example.com/laptop", 0);
    std::shared_ptr<HibernatedSession> s;
    h.run_on(0, [&] {
      s = std::make_shared<HibernatedSession>(
          ctx, 0,
          HibernatedSession::Parts{*xmpp::Jid::parse(kPhone), "id1", timeout, 7,
                                   UnackedQueue<std::string>(queue_max), CsiBuffer(), {}, "c2s", 1});
      s->set_presence(true, 5);
      h.router.sessions().bind(s);
      ctx.resumable.add("id1", s);
      s->start();
    });
    made.push_back(s);
    return s;
  }

  // Waits (bounded) until the laptop has `n` stanzas.
  std::vector<std::string> laptop_gets(std::size_t n) {
    for (int i = 0; i < 500 && laptop->delivered().size() < n; ++i) std::this_thread::sleep_for(10ms);
    h.settle();
    return laptop->delivered();
  }

  bool ended() {
    return !h.router.sessions().find(*xmpp::Jid::parse(kPhone)) && live.total() == 0 &&
           !ctx.resumable.find("id1");
  }

  storage::testing::TempDir dir;
  std::unique_ptr<storage::Storage> storage = storage::open_storage("sqlite", dir.file("tern.db"));
  core::BlockingPool blocking{1};
  router::fakes::RouterHarness h;
  core::Config config;
  AuthThrottle throttle;
  LiveStreams live{1};
  C2SContext ctx{h.router, *storage, blocking, config, nullptr, throttle, live};
  std::shared_ptr<FakeSession> laptop;
  std::vector<std::shared_ptr<HibernatedSession>> made;
};

TEST_F(HibernatedSessionTest, HoldsTheAddressItsIdAndItsPresence) {
  auto s = hibernate(300s);
  EXPECT_EQ(h.router.sessions().find(*xmpp::Jid::parse(kPhone)), s);
  EXPECT_EQ(ctx.resumable.find("id1"), s);
  EXPECT_TRUE(s->is_hibernating());
  EXPECT_TRUE(s->is_available());
  EXPECT_EQ(s->priority(), 5);
  EXPECT_EQ(live.total(), 1u);  // shutdown reaches it
}

TEST_F(HibernatedSessionTest, KeepsWhatArrivesAndRoutesItAgainAtTheTimeout) {
  auto s = hibernate(1s);
  h.route(chat(1));
  h.route(chat(2));
  EXPECT_TRUE(laptop->delivered().empty());  // kept for the phone
  auto got = laptop_gets(2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_NE(got[0].find("id='m1'"), std::string::npos);
  EXPECT_NE(got[1].find("id='m2'"), std::string::npos);
  EXPECT_TRUE(ended());
  EXPECT_FALSE(s->is_hibernating());
  EXPECT_FALSE(s->is_available());
  // A late <resume/> hears what the session had handled.
  EXPECT_EQ(ctx.resumable.handled_when_ended("id1", "alice@example.com"), 7u);
}

TEST_F(HibernatedSessionTest, EndsAtOnceWhenClosedAndTellsTheModules) {
  int ended_hooks = 0;
  auto token = h.router.hooks().session_ended.add([&](router::SessionEvent& ev) {
    EXPECT_EQ(ev.session.jid().to_string(), kPhone);
    EXPECT_TRUE(ev.session.is_available());  // as it was, for the unavailable broadcast
    ++ended_hooks;
    return core::Verdict::kPass;
  });
  auto s = hibernate(300s);
  h.route(chat(1));
  h.run_on(0, [&] { s->close_with_error(xmpp::StreamCondition::kSystemShutdown); });
  EXPECT_EQ(ended_hooks, 1);
  EXPECT_TRUE(ended());
  EXPECT_EQ(laptop_gets(1).size(), 1u);
  // A delivery looked up just before the end still reaches the account.
  h.run_on(0, [&] { s->deliver_serialized(std::make_shared<const std::string>(chat(2))); });
  auto got = laptop_gets(2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_NE(got[1].find("id='m2'"), std::string::npos);
  h.run_on(0, [&] { s->close_with_error(xmpp::StreamCondition::kConflict); });
  EXPECT_EQ(ended_hooks, 1);  // once only
}

TEST_F(HibernatedSessionTest, AFullQueueEndsTheSessionWithoutDroppingAnything) {
  auto s = hibernate(300s, 2);
  for (int i = 1; i <= 3; ++i) h.route(chat(i));
  auto got = laptop_gets(3);
  ASSERT_EQ(got.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_NE(got[i].find(fmt::format("id='m{}'", i + 1)), std::string::npos);
  EXPECT_TRUE(ended());
}

TEST_F(HibernatedSessionTest, PresenceHeldBackWhileInactiveIsNotRoutedAgain) {
  laptop = h.bind("alice@example.com/laptop", 0);
  CsiBuffer csi;
  csi.set_inactive();
  std::shared_ptr<HibernatedSession> s;
  h.run_on(0, [&] {
    s = std::make_shared<HibernatedSession>(
        ctx, 0,
        HibernatedSession::Parts{*xmpp::Jid::parse(kPhone), "id1", 300s, 0, UnackedQueue<std::string>(1000),
                                 std::move(csi), {}, "c2s", 1});
    h.router.sessions().bind(s);
    s->start();
  });
  made.push_back(s);
  h.route("<presence from='bob@example.com/desk' to='alice@example.com/phone'/>");
  h.route(chat(1));  // releases the held presence first: both are kept, in order
  h.route("<presence from='bob@example.com/desk' to='alice@example.com/phone' type='unavailable'/>");
  h.run_on(0, [&] { s->close_with_error(xmpp::StreamCondition::kSystemShutdown); });
  auto got = laptop_gets(1);
  ASSERT_EQ(got.size(), 1u);  // the message; presence is superseded, not routed again
  EXPECT_NE(got[0].find("id='m1'"), std::string::npos);
}

}  // namespace
}  // namespace tern::stream
