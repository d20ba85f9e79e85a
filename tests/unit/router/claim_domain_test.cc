// Router::claim_domain: a module serving a subdomain (e.g. a MUC service)
// gets every stanza addressed to it, and only while it holds the claim.
#include <gtest/gtest.h>

#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "router/router.h"
#include "router/router_harness.h"

namespace tern::router {
namespace {

using fakes::RouterHarness;

struct Seen {
  std::mutex mutex;
  std::vector<std::string> to;  // the 'to' of each stanza the handler got
};

TEST(ClaimDomain, StanzasToTheClaimedDomainAndItsJidsReachTheHandler) {
  RouterHarness h;
  auto alice = h.bind("alice@example.com/a", 0);
  Seen seen;
  auto token = h.router.claim_domain(
      "conference.example.com", [&seen](xml::Element, const xmpp::Jid&, const xmpp::Jid& to) {
        std::lock_guard lock(seen.mutex);
        seen.to.push_back(to.to_string());
      });
  h.route("<presence from='alice@example.com/a' to='room@conference.example.com/nick'/>");
  h.route("<message from='alice@example.com/a' to='room@conference.example.com' "
          "type='groupchat'><body>hi</body></message>");
  h.route("<iq from='alice@example.com/a' to='conference.example.com' type='get' id='q'>"
          "<query xmlns='http://jabber.org/protocol/disco#info'/></iq>");
  EXPECT_EQ(seen.to, (std::vector<std::string>{"room@conference.example.com/nick",
                                                "room@conference.example.com",
                                                "conference.example.com"}));
  EXPECT_TRUE(alice->delivered().empty());
  EXPECT_TRUE(h.router.is_claimed_domain("conference.example.com"));
}

TEST(ClaimDomain, DroppingTheTokenReleasesTheDomain) {
  RouterHarness h;
  auto alice = h.bind("alice@example.com/a", 0);
  int calls = 0;
  {
    auto token = h.router.claim_domain(
        "conference.example.com",
        [&calls](xml::Element, const xmpp::Jid&, const xmpp::Jid&) { ++calls; });
  }
  EXPECT_FALSE(h.router.is_claimed_domain("conference.example.com"));
  h.route("<message from='alice@example.com/a' to='room@conference.example.com' id='m'>"
          "<body>hi</body></message>");
  EXPECT_EQ(calls, 0);
  // Unclaimed, it is a remote domain again: with no s2s the sender gets an error.
  ASSERT_EQ(alice->delivered().size(), 1u);
  EXPECT_NE(alice->delivered()[0].find("remote-server-not-found"), std::string::npos);
}

TEST(ClaimDomain, ALocalOrClaimedDomainCannotBeClaimed) {
  RouterHarness h;
  auto noop = [](xml::Element, const xmpp::Jid&, const xmpp::Jid&) {};
  EXPECT_THROW((void)h.router.claim_domain("example.com", noop), std::logic_error);
  auto token = h.router.claim_domain("conference.example.com", noop);
  EXPECT_THROW((void)h.router.claim_domain("conference.example.com", noop), std::logic_error);
}

}  // namespace
}  // namespace tern::router
