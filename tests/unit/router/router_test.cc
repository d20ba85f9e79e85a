// Router: where messages and presence go (RFC 6120 §10, RFC 6121 §8.5),
// errors for what goes nowhere, and the hooks modules use to take stanzas.
// Iq dispatch is in router_iq_test.cc.
#include "router/router.h"

#include <gtest/gtest.h>

#include <future>
#include <string>
#include <vector>

#include "router/router_harness.h"
#include "xmpp/namespaces.h"

namespace tern::router {
namespace {

using fakes::FakeSession;
using fakes::RouterHarness;
using Strings = std::vector<std::string>;

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override { alice = h.bind("alice@example.com/a", 0); }

  RouterHarness h;
  std::shared_ptr<FakeSession> alice;  // the sender in most tests
};

// ---- full JIDs (RFC 6121 §8.5.3) ----

TEST_F(RouterTest, MessageToConnectedFullJidReachesExactlyThatSessionUnchanged) {
  auto phone = h.bind("bob@example.com/phone", 1);
  auto laptop = h.bind("bob@example.com/laptop", 5);
  const std::string msg =
      "<message from='alice@example.com/a' to='bob@example.com/phone' type='chat' id='m1'>"
      "<body>hi &amp; bye</body><x xmlns='urn:example:extra' a='1'/></message>";
  h.route(msg);
  EXPECT_EQ(phone->delivered(), Strings{msg});
  EXPECT_TRUE(laptop->delivered().empty());
  EXPECT_TRUE(alice->delivered().empty());
}

TEST_F(RouterTest, FullJidDeliveryIgnoresPriorityAndAvailability) {
  // Priority only chooses among resources for a bare JID; a full JID names one.
  auto hidden = h.bind("bob@example.com/hidden", -5);
  auto unavailable = h.bind("bob@example.com/quiet", 3, /*available=*/false);
  const std::string to_hidden =
      "<message from='alice@example.com/a' to='bob@example.com/hidden' type='chat' id='m1'>"
      "<body>1</body></message>";
  const std::string to_quiet =
      "<message from='alice@example.com/a' to='bob@example.com/quiet' id='m2'><body>2</body>"
      "</message>";
  h.route(to_hidden);
  h.route(to_quiet);
  EXPECT_EQ(hidden->delivered(), Strings{to_hidden});
  EXPECT_EQ(unavailable->delivered(), Strings{to_quiet});
}

TEST_F(RouterTest, MessageToUnconnectedResourceGoesToTheBestSessionAsBare) {
  auto phone = h.bind("bob@example.com/phone", 1);
  auto laptop = h.bind("bob@example.com/laptop", 5);
  const std::string msg =
      "<message from='alice@example.com/a' to='bob@example.com/gone' type='chat' id='m1'>"
      "<body>hi</body></message>";
  h.route(msg);
  EXPECT_EQ(laptop->delivered(), Strings{msg});  // 'to' stays as the sender wrote it
  EXPECT_TRUE(phone->delivered().empty());
  EXPECT_TRUE(alice->delivered().empty());
}

TEST_F(RouterTest, MessageToUnconnectedResourceOfOfflineAccountBouncesFromThatFullJid) {
  h.route(
      "<message from='alice@example.com/a' to='bob@example.com/gone' type='chat' id='m1'>"
      "<body>hi</body></message>");
  EXPECT_EQ(alice->delivered(),
            Strings{"<message id='m1' to='alice@example.com/a' from='bob@example.com/gone' "
                    "type='error'><body>hi</body><error type='cancel'><service-unavailable "
                    "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>"});
  EXPECT_EQ(h.lookups(), Strings{"bob@example.com"});
}

TEST_F(RouterTest, GroupchatToUnconnectedResourceIsRefused) {
  auto phone = h.bind("bob@example.com/phone", 1);
  h.route(
      "<message from='alice@example.com/a' to='bob@example.com/gone' type='groupchat' id='g1'>"
      "<body>hi</body></message>");
  EXPECT_TRUE(phone->delivered().empty());
  EXPECT_EQ(alice->delivered(),
            Strings{"<message id='g1' to='alice@example.com/a' from='bob@example.com/gone' "
                    "type='error'><body>hi</body><error type='cancel'><service-unavailable "
                    "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>"});
}

TEST_F(RouterTest, ErrorMessageToUnconnectedResourceIsDropped) {
  auto phone = h.bind("bob@example.com/phone", 1);
  h.route(
      "<message from='alice@example.com/a' to='bob@example.com/gone' type='error' id='e1'>"
      "<error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
      "</error></message>");
  EXPECT_TRUE(phone->delivered().empty());
  EXPECT_TRUE(alice->delivered().empty());
}

TEST_F(RouterTest, ErrorMessageToConnectedResourceIsDelivered) {
  auto phone = h.bind("bob@example.com/phone", 1);
  const std::string err =
      "<message from='alice@example.com/a' to='bob@example.com/phone' type='error' id='e1'>"
      "<error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
      "</error></message>";
  h.route(err);
  EXPECT_EQ(phone->delivered(), Strings{err});
}

TEST_F(RouterTest, PresenceToUnconnectedResourceIsDroppedButSubscriptionsGoToTheAccount) {
  auto phone = h.bind("bob@example.com/phone", 1);
  h.route("<presence from='alice@example.com/a' to='bob@example.com/gone'/>");
  EXPECT_TRUE(phone->delivered().empty());
  const std::string sub =
      "<presence from='alice@example.com/a' to='bob@example.com/gone' type='subscribe'/>";
  h.route(sub);
  EXPECT_EQ(phone->delivered(), Strings{sub});
  EXPECT_TRUE(alice->delivered().empty());
}

// ---- bare JIDs (RFC 6121 §8.5.2) ----

TEST_F(RouterTest, ChatToBareGoesOnlyToTheHighestNonNegativePriority) {
  auto low = h.bind("bob@example.com/low", 1);
  auto best = h.bind("bob@example.com/best", 5);
  auto away = h.bind("bob@example.com/away", 10, /*available=*/false);
  auto hidden = h.bind("bob@example.com/hidden", -1);
  const std::string msg =
      "<message from='alice@example.com/a' to='bob@example.com' type='chat' id='m1'>"
      "<body>hi</body></message>";
  h.route(msg);
  EXPECT_EQ(best->delivered(), Strings{msg});
  EXPECT_TRUE(low->delivered().empty());
  EXPECT_TRUE(away->delivered().empty());
  EXPECT_TRUE(hidden->delivered().empty());
  EXPECT_TRUE(alice->delivered().empty());
}

TEST_F(RouterTest, ChatToBareGoesToEverySessionTiedForHighestPriority) {
  auto one = h.bind("bob@example.com/one", 5);
  auto two = h.bind("bob@example.com/two", 5);
  auto low = h.bind("bob@example.com/low", 4);
  const std::string msg =
      "<message from='alice@example.com/a' to='bob@example.com' type='chat' id='m1'>"
      "<body>hi</body></message>";
  h.route(msg);
  EXPECT_EQ(one->delivered(), Strings{msg});
  EXPECT_EQ(two->delivered(), Strings{msg});
  EXPECT_TRUE(low->delivered().empty());
}

TEST_F(RouterTest, NormalMessageToBareFollowsThePriorityRule) {
  auto low = h.bind("bob@example.com/low", 0);
  auto best = h.bind("bob@example.com/best", 2);
  const std::string msg =
      "<message from='alice@example.com/a' to='bob@example.com' id='m1'><body>hi</body>"
      "</message>";
  h.route(msg);
  EXPECT_EQ(best->delivered(), Strings{msg});
  EXPECT_TRUE(low->delivered().empty());
}

TEST_F(RouterTest, PriorityZeroCountsAndNegativeNeverDoes) {
  auto zero = h.bind("bob@example.com/zero", 0);
  auto hidden = h.bind("bob@example.com/hidden", -1);
  const std::string msg =
      "<message from='alice@example.com/a' to='bob@example.com' type='chat' id='m1'>"
      "<body>hi</body></message>";
  h.route(msg);
  EXPECT_EQ(zero->delivered(), Strings{msg});
  EXPECT_TRUE(hidden->delivered().empty());
}

TEST_F(RouterTest, ChatToBareWithOnlyNegativeOrUnavailableSessionsBounces) {
  auto hidden = h.bind("bob@example.com/hidden", -1);
  auto away = h.bind("bob@example.com/away", 5, /*available=*/false);
  h.route(
      "<message from='alice@example.com/a' to='bob@example.com' type='chat' id='m1'>"
      "<body>hi</body></message>");
  EXPECT_TRUE(hidden->delivered().empty());
  EXPECT_TRUE(away->delivered().empty());
  EXPECT_EQ(alice->delivered(),
            Strings{"<message id='m1' to='alice@example.com/a' from='bob@example.com' "
                    "type='error'><body>hi</body><error type='cancel'><service-unavailable "
                    "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>"});
}

TEST_F(RouterTest, HeadlineToBareGoesToEveryAvailableNonNegativeSession) {
  auto a = h.bind("bob@example.com/a", 0);
  auto b = h.bind("bob@example.com/b", 7);
  auto c = h.bind("bob@example.com/c", 3);
  auto hidden = h.bind("bob@example.com/hidden", -1);
  auto away = h.bind("bob@example.com/away", 9, /*available=*/false);
  const std::string msg =
      "<message from='alice@example.com/a' to='bob@example.com' type='headline' id='h1'>"
      "<body>news</body></message>";
  h.route(msg);
  EXPECT_EQ(a->delivered(), Strings{msg});
  EXPECT_EQ(b->delivered(), Strings{msg});
  EXPECT_EQ(c->delivered(), Strings{msg});
  EXPECT_TRUE(hidden->delivered().empty());
  EXPECT_TRUE(away->delivered().empty());
}

TEST_F(RouterTest, HeadlineToOfflineAccountIsDroppedSilently) {
  h.route(
      "<message from='alice@example.com/a' to='bob@example.com' type='headline' id='h1'>"
      "<body>news</body></message>");
  EXPECT_TRUE(alice->delivered().empty());
}

TEST_F(RouterTest, ChatToAccountWithoutSessionsBouncesServiceUnavailable) {
  h.route(
      "<message from='alice@example.com/a' to='bob@example.com' type='chat' id='m1'>"
      "<body>hi</body></message>");
  EXPECT_EQ(alice->delivered(),
            Strings{"<message id='m1' to='alice@example.com/a' from='bob@example.com' "
                    "type='error'><body>hi</body><error type='cancel'><service-unavailable "
                    "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>"});
  EXPECT_EQ(h.lookups(), Strings{"bob@example.com"});
}

TEST_F(RouterTest, MessageToUnknownAccountBouncesTheSameWay) {
  // Same answer whether or not the account exists: the reply does not tell
  // a prober which accounts there are.
  h.accounts = RouterHarness::Accounts::kDoNotExist;
  h.route(
      "<message from='alice@example.com/a' to='nobody@example.com' id='m1'><body>hi</body>"
      "</message>");
  EXPECT_EQ(alice->delivered(),
            Strings{"<message id='m1' to='alice@example.com/a' from='nobody@example.com' "
                    "type='error'><body>hi</body><error type='cancel'><service-unavailable "
                    "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>"});
}

TEST_F(RouterTest, FailedAccountLookupStillBounces) {
  h.accounts = RouterHarness::Accounts::kLookupFails;
  h.route(
      "<message from='alice@example.com/a' to='bob@example.com' type='chat' id='m1'>"
      "<body>hi</body></message>");
  EXPECT_EQ(alice->delivered(),
            Strings{"<message id='m1' to='alice@example.com/a' from='bob@example.com' "
                    "type='error'><body>hi</body><error type='cancel'><service-unavailable "
                    "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>"});
}

TEST_F(RouterTest, GroupchatToBareIsRefusedEvenWithAvailableSessions) {
  auto phone = h.bind("bob@example.com/phone", 5);
  h.route(
      "<message from='alice@example.com/a' to='bob@example.com' type='groupchat' id='g1'>"
      "<body>hi</body></message>");
  EXPECT_TRUE(phone->delivered().empty());
  EXPECT_EQ(alice->delivered(),
            Strings{"<message id='g1' to='alice@example.com/a' from='bob@example.com' "
                    "type='error'><body>hi</body><error type='cancel'><service-unavailable "
                    "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>"});
}

TEST_F(RouterTest, ErrorMessageToOfflineAccountDoesNotLoop) {
  h.route(
      "<message from='alice@example.com/a' to='bob@example.com' type='error' id='e1'>"
      "<error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
      "</error></message>");
  EXPECT_TRUE(alice->delivered().empty());
  EXPECT_TRUE(h.lookups().empty());
}

TEST_F(RouterTest, ErrorMessageToBareIsNotDeliveredToSessions) {
  auto phone = h.bind("bob@example.com/phone", 5);
  h.route(
      "<message from='alice@example.com/a' to='bob@example.com' type='error' id='e1'>"
      "<error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
      "</error></message>");
  EXPECT_TRUE(phone->delivered().empty());
  EXPECT_TRUE(alice->delivered().empty());
}

TEST_F(RouterTest, BounceToAnOfflineSenderEndsQuietly) {
  // Both ends offline: the error goes nowhere and is not answered in turn.
  h.route(
      "<message from='ghost@example.com/x' to='bob@example.com' type='chat' id='m1'>"
      "<body>hi</body></message>");
  EXPECT_TRUE(alice->delivered().empty());
  EXPECT_EQ(h.lookups(), Strings{"bob@example.com"});  // not ghost@: the error was dropped
}

TEST_F(RouterTest, DirectedPresenceToBareReachesEveryAvailableSession) {
  auto a = h.bind("bob@example.com/a", 5);
  auto hidden = h.bind("bob@example.com/hidden", -1);
  auto away = h.bind("bob@example.com/away", 5, /*available=*/false);
  const std::string pres = "<presence from='alice@example.com/a' to='bob@example.com'/>";
  h.route(pres);
  EXPECT_EQ(a->delivered(), Strings{pres});
  EXPECT_EQ(hidden->delivered(), Strings{pres});
  EXPECT_TRUE(away->delivered().empty());
}

TEST_F(RouterTest, MessageWithoutToIsForTheSendersOwnAccount) {
  // RFC 6120 §10.3.3 / §8.1.1.1: no 'to' means the sender's bare JID.
  auto other = h.bind("alice@example.com/b", 3);
  const std::string msg =
      "<message from='alice@example.com/a' type='chat' id='m1'><body>note</body></message>";
  h.route(msg);
  EXPECT_EQ(other->delivered(), Strings{msg});
  EXPECT_TRUE(alice->delivered().empty());  // priority 0 < 3
}

// ---- the server's own domain ----

TEST_F(RouterTest, ChatToTheDomainWithNoModuleBouncesServiceUnavailable) {
  h.route(
      "<message from='alice@example.com/a' to='example.com' type='chat' id='m1'>"
      "<body>hi</body></message>");
  EXPECT_EQ(alice->delivered(),
            Strings{"<message id='m1' to='alice@example.com/a' from='example.com' "
                    "type='error'><body>hi</body><error type='cancel'><service-unavailable "
                    "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>"});
}

TEST_F(RouterTest, HeadlineAndPresenceToTheDomainAreDroppedSilently) {
  h.route(
      "<message from='alice@example.com/a' to='example.com' type='headline' id='h1'>"
      "<body>hi</body></message>");
  h.route("<presence from='alice@example.com/a' to='example.com'/>");
  EXPECT_TRUE(alice->delivered().empty());
}

// ---- other domains ----

TEST_F(RouterTest, MessageToRemoteDomainBouncesRemoteServerNotFound) {
  h.route(
      "<message from='alice@example.com/a' to='carol@remote.example.org' type='chat' id='m1'>"
      "<body>hi</body></message>");
  EXPECT_EQ(alice->delivered(),
            Strings{"<message id='m1' to='alice@example.com/a' from='carol@remote.example.org' "
                    "type='error'><body>hi</body><error type='cancel'><remote-server-not-found "
                    "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>"});
}

TEST_F(RouterTest, IqToRemoteDomainBouncesRemoteServerNotFoundWithoutPayload) {
  h.route(
      "<iq from='alice@example.com/a' to='remote.example.org' type='get' id='q1'>"
      "<query xmlns='http://jabber.org/protocol/disco#info'/></iq>");
  EXPECT_EQ(alice->delivered(),
            Strings{"<iq id='q1' to='alice@example.com/a' from='remote.example.org' "
                    "type='error'><error type='cancel'><remote-server-not-found "
                    "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"});
}

TEST_F(RouterTest, PresenceToRemoteDomainIsDroppedSilently) {
  h.route("<presence from='alice@example.com/a' to='carol@remote.example.org'/>");
  h.route("<presence from='alice@example.com/a' to='carol@remote.example.org' type='subscribe'/>");
  EXPECT_TRUE(alice->delivered().empty());
}

TEST_F(RouterTest, ToRemoteHookTakesStanzasForOtherDomains) {
  Strings seen;
  auto token = h.router.hooks().to_remote.add([&](RoutedStanza& ev) {
    seen.push_back(ev.to.to_string() + " " + xml::to_string(ev.stanza, ns::kClient));
    return core::Verdict::kHandled;
  });
  const std::string msg =
      "<message from='alice@example.com/a' to='carol@remote.example.org' id='m1'>"
      "<body>hi</body></message>";
  h.route(msg);
  EXPECT_EQ(seen, Strings{"carol@remote.example.org " + msg});
  EXPECT_TRUE(alice->delivered().empty());
}

TEST_F(RouterTest, ToRemoteHookThatPassesLeavesTheBounce) {
  int calls = 0;
  auto token = h.router.hooks().to_remote.add([&](RoutedStanza&) {
    ++calls;
    return core::Verdict::kPass;
  });
  h.route(
      "<message from='alice@example.com/a' to='carol@remote.example.org' id='m1'>"
      "<body>hi</body></message>");
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(alice->delivered(),
            Strings{"<message id='m1' to='alice@example.com/a' from='carol@remote.example.org' "
                    "type='error'><body>hi</body><error type='cancel'><remote-server-not-found "
                    "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>"});
}

// ---- malformed addresses ----

// What RFC 6120 §8.3.3.8 shows: the error comes back from the address the
// sender wrote. Leaving 'from' out would be acceptable too (the address is
// not a JID); losing the error is not.
bool is_jid_malformed_reply(const std::string& got, std::string_view name, std::string_view body) {
  const std::string error =
      "<error type='modify'><jid-malformed xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
      "</error>";
  const std::string with_from = "<" + std::string(name) +
                                " id='x1' to='alice@example.com/a' from='@bad' type='error'>" +
                                std::string(body) + error + "</" + std::string(name) + ">";
  const std::string without_from = "<" + std::string(name) +
                                   " id='x1' to='alice@example.com/a' type='error'>" +
                                   std::string(body) + error + "</" + std::string(name) + ">";
  return got == with_from || got == without_from;
}

TEST_F(RouterTest, MessageToMalformedJidBouncesJidMalformedToTheSender) {
  h.route(
      "<message from='alice@example.com/a' to='@bad' type='chat' id='x1'><body>hi</body>"
      "</message>");
  auto got = alice->delivered();
  ASSERT_EQ(got.size(), 1u) << "the sender never learns its message went nowhere";
  EXPECT_TRUE(is_jid_malformed_reply(got[0], "message", "<body>hi</body>")) << got[0];
}

TEST_F(RouterTest, IqToMalformedJidBouncesJidMalformedToTheSender) {
  h.route(
      "<iq from='alice@example.com/a' to='@bad' type='get' id='x1'>"
      "<query xmlns='jabber:iq:version'/></iq>");
  auto got = alice->delivered();
  ASSERT_EQ(got.size(), 1u) << "the sender's iq is never answered (RFC 6120 §8.2.3)";
  EXPECT_TRUE(is_jid_malformed_reply(got[0], "iq", "")) << got[0];
}

TEST_F(RouterTest, ErrorToMalformedJidIsNotAnswered) {
  h.route(
      "<message from='alice@example.com/a' to='@bad' type='error' id='x1'>"
      "<error type='cancel'><gone xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>"
      "</message>");
  EXPECT_TRUE(alice->delivered().empty());
}

// ---- hooks ----

TEST_F(RouterTest, PreRouteHandledStopsRouting) {
  auto phone = h.bind("bob@example.com/phone", 1);
  Strings seen;
  auto token = h.router.hooks().pre_route.add([&](RoutedStanza& ev) {
    seen.push_back(ev.from.to_string() + " -> " + ev.to.to_string() +
                   (ev.had_to ? " had_to" : " no_to"));
    return core::Verdict::kHandled;
  });
  h.route(
      "<message from='alice@example.com/a' to='bob@example.com/phone' type='chat' id='m1'>"
      "<body>blocked</body></message>");
  EXPECT_EQ(seen, Strings{"alice@example.com/a -> bob@example.com/phone had_to"});
  EXPECT_TRUE(phone->delivered().empty());
  EXPECT_TRUE(alice->delivered().empty());
}

TEST_F(RouterTest, PreRouteSeesStanzasWithoutToAddressedToTheSendersAccount) {
  Strings seen;
  auto token = h.router.hooks().pre_route.add([&](RoutedStanza& ev) {
    seen.push_back(ev.from.to_string() + " -> " + ev.to.to_string() +
                   (ev.had_to ? " had_to" : " no_to"));
    return core::Verdict::kHandled;
  });
  h.route(
      "<iq from='alice@example.com/a' type='get' id='r1'><query xmlns='jabber:iq:roster'/>"
      "</iq>");
  EXPECT_EQ(seen, Strings{"alice@example.com/a -> alice@example.com no_to"});
}

TEST_F(RouterTest, PreRouteMayChangeTheStanzaAndPass) {
  auto phone = h.bind("bob@example.com/phone", 1);
  auto token = h.router.hooks().pre_route.add([](RoutedStanza& ev) {
    ev.stanza.add_child(xml::Element("delay", "urn:xmpp:delay"))
        .set_attr("stamp", "2002-09-10T23:08:25Z");
    return core::Verdict::kPass;
  });
  h.route(
      "<message from='alice@example.com/a' to='bob@example.com/phone' id='m1'><body>hi</body>"
      "</message>");
  EXPECT_EQ(phone->delivered(),
            Strings{"<message from='alice@example.com/a' to='bob@example.com/phone' id='m1'>"
                    "<body>hi</body><delay xmlns='urn:xmpp:delay' stamp='2002-09-10T23:08:25Z'/>"
                    "</message>"});
}

TEST_F(RouterTest, PreRouteRunsBeforeTheRemoteBounce) {
  auto token =
      h.router.hooks().pre_route.add([](RoutedStanza&) { return core::Verdict::kHandled; });
  h.route(
      "<message from='alice@example.com/a' to='carol@remote.example.org' id='m1'>"
      "<body>hi</body></message>");
  EXPECT_TRUE(alice->delivered().empty());
}

TEST_F(RouterTest, ToBareHookCanTakeAMessageToABareJid) {
  auto phone = h.bind("bob@example.com/phone", 1);
  Strings seen;
  auto token = h.router.hooks().to_bare.add([&](RoutedStanza& ev) {
    seen.push_back(ev.to.to_string() + " " + xml::to_string(ev.stanza, ns::kClient));
    return core::Verdict::kHandled;
  });
  const std::string msg =
      "<message from='alice@example.com/a' to='bob@example.com' type='chat' id='m1'>"
      "<body>hi</body></message>";
  h.route(msg);
  EXPECT_EQ(seen, Strings{"bob@example.com " + msg});
  EXPECT_TRUE(phone->delivered().empty());
  EXPECT_TRUE(alice->delivered().empty());
  EXPECT_TRUE(h.lookups().empty());
}

TEST_F(RouterTest, ToBareHookThatPassesLeavesNormalDelivery) {
  auto phone = h.bind("bob@example.com/phone", 1);
  int calls = 0;
  auto token = h.router.hooks().to_bare.add([&](RoutedStanza&) {
    ++calls;
    return core::Verdict::kPass;
  });
  const std::string msg =
      "<message from='alice@example.com/a' to='bob@example.com' type='chat' id='m1'>"
      "<body>hi</body></message>";
  h.route(msg);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(phone->delivered(), Strings{msg});
}

TEST_F(RouterTest, ToBareHookDoesNotSeeMessagesToConnectedFullJids) {
  auto phone = h.bind("bob@example.com/phone", 1);
  int calls = 0;
  auto token = h.router.hooks().to_bare.add([&](RoutedStanza&) {
    ++calls;
    return core::Verdict::kHandled;
  });
  const std::string msg =
      "<message from='alice@example.com/a' to='bob@example.com/phone' id='m1'><body>hi</body>"
      "</message>";
  h.route(msg);
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(phone->delivered(), Strings{msg});
}

TEST_F(RouterTest, UndeliveredHookGetsTheMessageNoSessionTook) {
  auto hidden = h.bind("bob@example.com/hidden", -1);
  Strings stored;
  auto token = h.router.hooks().undelivered.add([&](RoutedStanza& ev) {
    stored.push_back(ev.from.to_string() + " -> " + ev.to.to_string() + " " +
                     xml::to_string(ev.stanza, ns::kClient));
    return core::Verdict::kHandled;  // e.g. offline storage kept it
  });
  const std::string msg =
      "<message from='alice@example.com/a' to='bob@example.com' type='chat' id='m1'>"
      "<body>later</body></message>";
  h.route(msg);
  EXPECT_EQ(stored, Strings{"alice@example.com/a -> bob@example.com " + msg});
  EXPECT_TRUE(hidden->delivered().empty());
  EXPECT_TRUE(alice->delivered().empty());  // kept, so no error
}

TEST_F(RouterTest, UndeliveredHookSeesMessagesToUnconnectedResourcesAsBare) {
  Strings stored;
  auto token = h.router.hooks().undelivered.add([&](RoutedStanza& ev) {
    stored.push_back(ev.to.to_string());
    return core::Verdict::kHandled;
  });
  h.route(
      "<message from='alice@example.com/a' to='bob@example.com/gone' type='chat' id='m1'>"
      "<body>later</body></message>");
  EXPECT_EQ(stored, Strings{"bob@example.com"});
  EXPECT_TRUE(alice->delivered().empty());
}

TEST_F(RouterTest, UndeliveredHookIsNotRunWhenASessionTookTheMessage) {
  auto phone = h.bind("bob@example.com/phone", 0);
  int calls = 0;
  auto token = h.router.hooks().undelivered.add([&](RoutedStanza&) {
    ++calls;
    return core::Verdict::kHandled;
  });
  h.route(
      "<message from='alice@example.com/a' to='bob@example.com' type='chat' id='m1'>"
      "<body>now</body></message>");
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(phone->delivered().size(), 1u);
}

TEST_F(RouterTest, UndeliveredHookThatPassesLeavesTheBounce) {
  int calls = 0;
  auto token = h.router.hooks().undelivered.add([&](RoutedStanza&) {
    ++calls;
    return core::Verdict::kPass;
  });
  h.route(
      "<message from='alice@example.com/a' to='bob@example.com' type='chat' id='m1'>"
      "<body>hi</body></message>");
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(alice->delivered(),
            Strings{"<message id='m1' to='alice@example.com/a' from='bob@example.com' "
                    "type='error'><body>hi</body><error type='cancel'><service-unavailable "
                    "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>"});
}

TEST_F(RouterTest, DroppedHookTokenRemovesTheHandler) {
  auto phone = h.bind("bob@example.com/phone", 1);
  {
    auto token =
        h.router.hooks().pre_route.add([](RoutedStanza&) { return core::Verdict::kHandled; });
  }
  const std::string msg =
      "<message from='alice@example.com/a' to='bob@example.com/phone' id='m1'><body>hi</body>"
      "</message>";
  h.route(msg);
  EXPECT_EQ(phone->delivered(), Strings{msg});
}

TEST_F(RouterTest, ToServerHookTakesMessagesToTheDomain) {
  Strings seen;
  auto token = h.router.hooks().to_server.add([&](RoutedStanza& ev) {
    seen.push_back(ev.to.to_string() + " " + std::string(ev.stanza.name()));
    return core::Verdict::kHandled;
  });
  h.route(
      "<message from='alice@example.com/a' to='example.com' type='chat' id='m1'>"
      "<body>hi</body></message>");
  h.route("<presence from='alice@example.com/a' to='example.com'/>");
  EXPECT_EQ(seen, (Strings{"example.com message", "example.com presence"}));
  EXPECT_TRUE(alice->delivered().empty());
}

TEST_F(RouterTest, PresenceWithoutToGoesToTheBroadcastHookOnly) {
  auto other = h.bind("alice@example.com/b", 3);
  Strings seen;
  auto token = h.router.hooks().presence_broadcast.add([&](RoutedStanza& ev) {
    seen.push_back(ev.from.to_string() + " -> " + ev.to.to_string() +
                   (ev.had_to ? " had_to" : " no_to"));
    return core::Verdict::kHandled;
  });
  h.route("<presence from='alice@example.com/a'><show>away</show></presence>");
  EXPECT_EQ(seen, Strings{"alice@example.com/a -> alice@example.com no_to"});
  EXPECT_TRUE(other->delivered().empty());
  EXPECT_TRUE(alice->delivered().empty());
}

TEST_F(RouterTest, IqResponsesToAnAccountOrTheDomainGoToTheIqResponseHook) {
  Strings seen;
  auto token = h.router.hooks().iq_response.add([&](RoutedStanza& ev) {
    seen.push_back(ev.from.to_string() + " -> " + ev.to.to_string() + " " +
                   std::string(ev.stanza.attr_or("type")) + " " + std::string(ev.stanza.attr_or("id")));
    return core::Verdict::kHandled;
  });
  h.route("<iq from='alice@example.com/a' to='bob@example.com' type='result' id='r1'/>");
  h.route("<iq from='alice@example.com/a' to='example.com' type='error' id='r2'/>");
  h.route("<iq from='alice@example.com/a' to='bob@example.com' type='get' id='q1'>"
          "<query xmlns='urn:example:unknown'/></iq>");
  EXPECT_EQ(seen, (Strings{"alice@example.com/a -> bob@example.com result r1",
                           "alice@example.com/a -> example.com error r2"}));
  EXPECT_EQ(alice->delivered().size(), 1u);  // the get's error only: responses are never answered
}

// ---- shards ----

TEST(RouterShards, OnShardOfRunsOnTheSessionsShard) {
  RouterHarness h(2);
  auto on_one = FakeSession::make("bob@example.com/phone", 1);
  std::promise<int> ran_on;
  Session* seen = nullptr;
  h.run_on(0, [&] {
    h.router.on_shard_of(on_one, [&](Session& s) {
      seen = &s;
      ran_on.set_value(core::Shards::current());
    });
  });
  auto fut = ran_on.get_future();
  ASSERT_EQ(fut.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_EQ(fut.get(), 1);
  EXPECT_EQ(seen, on_one.get());
}

TEST(RouterShards, OnShardOfFromOffTheShardsPostsToTheSessionsShard) {
  RouterHarness h(2);
  auto on_zero = FakeSession::make("bob@example.com/phone", 0);
  std::promise<int> ran_on;
  h.router.on_shard_of(on_zero, [&](Session&) { ran_on.set_value(core::Shards::current()); });
  auto fut = ran_on.get_future();
  ASSERT_EQ(fut.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_EQ(fut.get(), 0);
}

TEST(RouterShards, OnShardOfOnTheSameShardRunsAtOnce) {
  RouterHarness h(2);
  auto on_one = FakeSession::make("bob@example.com/phone", 1);
  bool ran_before_return = false;
  h.run_on(1, [&] {
    bool ran = false;
    h.router.on_shard_of(on_one, [&](Session&) { ran = true; });
    ran_before_return = ran;
  });
  EXPECT_TRUE(ran_before_return);
}

TEST(RouterShards, DeliveryRunsOnTheRecipientsShard) {
  RouterHarness h(2);
  auto alice = h.bind("alice@example.com/a", 0, true, /*shard=*/0);
  auto bob = h.bind("bob@example.com/phone", 0, true, /*shard=*/1);
  const std::string msg =
      "<message from='alice@example.com/a' to='bob@example.com' type='chat' id='m1'>"
      "<body>hi</body></message>";
  h.route(msg, /*shard=*/0);
  EXPECT_EQ(bob->delivered(), Strings{msg});
  EXPECT_EQ(bob->delivered_on(), std::vector<int>{1});
  // And an error for a sender on shard 0, caused on shard 1, comes back on 0.
  h.route(
      "<message from='alice@example.com/a' to='nobody@example.com' id='m2'><body>x</body>"
      "</message>",
      /*shard=*/1);
  EXPECT_EQ(alice->delivered().size(), 1u);
  EXPECT_EQ(alice->delivered_on(), std::vector<int>{0});
}

TEST(RouterShards, AnotherShardGetsBytesSerialisedOnceAndTheSameShardTheTree) {
  RouterHarness h(2);
  h.bind("alice@example.com/a", 0, true, /*shard=*/0);
  auto desk = h.bind("bob@example.com/desk", 5, true, /*shard=*/0);
  auto phone = h.bind("bob@example.com/phone", 5, true, /*shard=*/1);
  auto tablet = h.bind("bob@example.com/tablet", 5, true, /*shard=*/1);
  const std::string msg =
      "<message from='alice@example.com/a' to='bob@example.com' type='chat' id='m1'>"
      "<body>hi &amp; bye</body></message>";
  h.route(msg, /*shard=*/0);
  for (const auto& s : {desk, phone, tablet}) ASSERT_EQ(s->delivered(), Strings{msg});
  EXPECT_EQ(desk->buffers(), std::vector<const void*>{nullptr});
  ASSERT_NE(phone->buffers().front(), nullptr);
  EXPECT_EQ(phone->buffers(), tablet->buffers());  // one buffer for the whole shard
  EXPECT_EQ(phone->delivered_on(), std::vector<int>{1});
}

// ---- copies to many recipients (room and service fan-out) ----

std::vector<xmpp::Jid> jids(std::initializer_list<std::string_view> texts) {
  std::vector<xmpp::Jid> out;
  for (auto t : texts) out.push_back(*xmpp::Jid::parse(t));
  return out;
}

TEST(RouterCopies, EachCopyIsAddressedToItsRecipientAndDeliveredOnItsShard) {
  RouterHarness h(2);
  auto alice = h.bind("alice@example.com/a", 0, true, /*shard=*/0);
  auto phone = h.bind("bob@example.com/phone", 0, true, /*shard=*/1);
  auto tablet = h.bind("bob@example.com/tablet", 0, true, /*shard=*/1);
  auto stanza = fakes::parse_stanza(
      "<message from='room@conference.example.com/nick' type='groupchat' id='g1'>"
      "<body>a &lt; b</body></message>");
  const auto to = jids({"alice@example.com/a", "bob@example.com/phone", "bob@example.com/tablet"});
  h.run_on(0, [&] { h.router.route_copies(stanza, to); });
  auto expected = [](std::string_view who) {
    return Strings{"<message to='" + std::string(who) +
                   "' from='room@conference.example.com/nick' type='groupchat' id='g1'>"
                   "<body>a &lt; b</body></message>"};
  };
  EXPECT_EQ(alice->delivered(), expected("alice@example.com/a"));
  EXPECT_EQ(phone->delivered(), expected("bob@example.com/phone"));
  EXPECT_EQ(tablet->delivered(), expected("bob@example.com/tablet"));
  EXPECT_EQ(phone->delivered_on(), std::vector<int>{1});
  EXPECT_EQ(alice->delivered_on(), std::vector<int>{0});
}

TEST(RouterCopies, CopiesKeepTheirOrderPerRecipient) {
  RouterHarness h(2);
  auto bob = h.bind("bob@example.com/phone", 0, true, /*shard=*/1);
  const auto to = jids({"bob@example.com/phone"});
  h.run_on(0, [&] {
    for (int i = 0; i < 50; ++i) {
      auto m = fakes::parse_stanza("<message from='room@conference.example.com/n' type='groupchat' id='" +
                                   std::to_string(i) + "'/>");
      h.router.route_copies(m, to);
    }
  });
  const auto got = bob->delivered();
  ASSERT_EQ(got.size(), 50u);
  for (int i = 0; i < 50; ++i) EXPECT_NE(got[i].find("id='" + std::to_string(i) + "'"), std::string::npos);
}

TEST(RouterCopies, EveryCopyPassesPreRouteWhichMayDropIt) {
  // XEP-0191: an occupant who blocked the room gets nothing from it.
  RouterHarness h(1);
  auto alice = h.bind("alice@example.com/a", 0);
  auto bob = h.bind("bob@example.com/phone", 0);
  Strings seen;
  auto token = h.router.hooks().pre_route.add([&](RoutedStanza& ev) {
    seen.push_back(ev.to.to_string() + "=" + std::string(ev.stanza.attr_or("to")));
    return ev.to.node() == "bob" ? core::Verdict::kHandled : core::Verdict::kPass;
  });
  auto stanza = fakes::parse_stanza("<message from='room@conference.example.com/n' type='groupchat'/>");
  const auto to = jids({"alice@example.com/a", "bob@example.com/phone"});
  h.run_on(0, [&] { h.router.route_copies(stanza, to); });
  EXPECT_EQ(seen, (Strings{"alice@example.com/a=alice@example.com/a",
                           "bob@example.com/phone=bob@example.com/phone"}));
  EXPECT_EQ(alice->delivered().size(), 1u);
  EXPECT_TRUE(bob->delivered().empty());
}

TEST(RouterCopies, ACopyForAGoneSessionIsRoutedLikeOneStanza) {
  // RFC 6121 §8.5.3.2.1: groupchat to an unconnected resource is refused.
  RouterHarness h(1);
  auto alice = h.bind("alice@example.com/a", 0);
  auto bob = h.bind("bob@example.com/phone", 0);
  auto stanza = fakes::parse_stanza("<message from='alice@example.com/a' type='groupchat' id='x'/>");
  const auto to = jids({"bob@example.com/gone", "bob@example.com/phone"});
  h.run_on(0, [&] { h.router.route_copies(stanza, to); });
  EXPECT_EQ(bob->delivered().size(), 1u);
  const auto errors = alice->delivered();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("type='error'"), std::string::npos);
  EXPECT_NE(errors[0].find("from='bob@example.com/gone'"), std::string::npos);
  EXPECT_NE(errors[0].find("service-unavailable"), std::string::npos);
}

// A presence broadcast (RFC 6121 §4.2.2): each contact's bare JID, every
// available resource of it, 'to' left as the bare JID, as route() would.
TEST(RouterCopies, PresenceToBareJidsReachesEveryAvailableResource) {
  RouterHarness h(2);
  auto desk = h.bind("bob@example.com/desk", 5, true, /*shard=*/0);
  auto phone = h.bind("bob@example.com/phone", -1, true, /*shard=*/1);
  auto away = h.bind("bob@example.com/away", 5, /*available=*/false, /*shard=*/1);
  auto carol = h.bind("carol@example.com/c", 0, true, /*shard=*/1);
  auto stanza = fakes::parse_stanza("<presence from='alice@example.com/a'><show>dnd</show></presence>");
  const auto to = jids({"bob@example.com", "carol@example.com", "nobody@example.com"});
  h.run_on(0, [&] { h.router.route_copies(stanza, to); });
  auto expected = [](std::string_view who) {
    return Strings{"<presence to='" + std::string(who) + "' from='alice@example.com/a'><show>dnd</show></presence>"};
  };
  EXPECT_EQ(desk->delivered(), expected("bob@example.com"));
  EXPECT_EQ(phone->delivered(), expected("bob@example.com"));
  EXPECT_TRUE(away->delivered().empty());
  EXPECT_EQ(carol->delivered(), expected("carol@example.com"));
  EXPECT_EQ(phone->delivered_on(), std::vector<int>{1});
}

// The to_bare hook sees each copy to a bare JID (PEP hears caps there) and
// may take it; probes and subscriptions are the presence module's, never
// fanned out here.
TEST(RouterCopies, PresenceCopiesToBareJidsPassTheToBareHook) {
  RouterHarness h(1);
  auto bob = h.bind("bob@example.com/desk", 0);
  auto carol = h.bind("carol@example.com/c", 0);
  Strings heard;
  auto token = h.router.hooks().to_bare.add([&](RoutedStanza& ev) {
    heard.push_back(ev.to.to_string());
    return ev.to.node() == "carol" ? core::Verdict::kHandled : core::Verdict::kPass;
  });
  auto stanza = fakes::parse_stanza("<presence from='alice@example.com/a'/>");
  h.run_on(0, [&] { h.router.route_copies(stanza, jids({"bob@example.com", "carol@example.com"})); });
  EXPECT_EQ(heard, (Strings{"bob@example.com", "carol@example.com"}));
  EXPECT_EQ(bob->delivered().size(), 1u);
  EXPECT_TRUE(carol->delivered().empty());
}

// Work the sender queued ahead (push_next) stays ahead of a fan-out it sets
// off: the copies wait as one step and still go out as bytes.
TEST(RouterCopies, CopiesWaitBehindWorkTheSenderQueuedAhead) {
  RouterHarness h(1);
  auto bob = h.bind("bob@example.com/desk", 0);
  auto carol = h.bind("carol@example.com/c", 0);
  h.run_on(0, [&] {
    auto& queue = h.router.serial();
    queue.push_back("alice@example.com", core::SerialQueue::from_sync([&] {
      queue.push_next("alice@example.com", core::SerialQueue::from_sync([&] {
        h.router.route(fakes::parse_stanza("<message from='alice@example.com/a' to='bob@example.com/desk' id='first'/>"));
      }));
      auto presence = fakes::parse_stanza("<presence from='alice@example.com/a'/>");
      h.router.route_copies(presence, jids({"bob@example.com", "carol@example.com"}));
    }));
  });
  const auto got = bob->delivered();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_NE(got[0].find("id='first'"), std::string::npos);
  EXPECT_EQ(got[1], "<presence to='bob@example.com' from='alice@example.com/a'/>");
  EXPECT_EQ(carol->delivered(), Strings{"<presence to='carol@example.com' from='alice@example.com/a'/>"});
}

}  // namespace
}  // namespace tern::router
