// Router: iq get/set to the server, to accounts and to full JIDs (RFC 6120
// §8.2.3, §10.3.3, §10.4; RFC 6121 §8.5), and how IqTable replies become
// stanzas.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "router/router.h"
#include "router/router_harness.h"
#include "xmpp/namespaces.h"

namespace tern::router {
namespace {

using fakes::FakeSession;
using fakes::RouterHarness;
using Strings = std::vector<std::string>;
using xmpp::StanzaCondition;
using xmpp::StanzaError;

class RouterIqTest : public ::testing::Test {
 protected:
  void SetUp() override { alice = h.bind("alice@example.com/a", 0); }

  // "from -> to type <payload>", recorded by handlers on the shard thread and
  // read by the test after the shard settled.
  static std::string describe(const IqRequest& req) {
    return req.from.to_string() + " -> " + req.to.to_string() +
           (req.type == IqType::kGet ? " get " : " set ") + xml::to_string(req.payload(), ns::kClient);
  }

  RouterHarness h;
  std::shared_ptr<FakeSession> alice;
};

xml::Element version_payload() {
  xml::Element query("query", "jabber:iq:version");
  query.add_child("name").add_text("Tern");
  return query;
}

TEST_F(RouterIqTest, UnknownNamespaceToTheDomainBouncesServiceUnavailable) {
  h.route(
      "<iq from='alice@example.com/a' to='example.com' type='get' id='q1'>"
      "<query xmlns='urn:example:unknown'/></iq>");
  EXPECT_EQ(alice->delivered(),
            Strings{"<iq id='q1' to='alice@example.com/a' from='example.com' type='error'>"
                    "<error type='cancel'><service-unavailable "
                    "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"});
}

TEST_F(RouterIqTest, UnknownNamespaceSetToTheDomainBouncesServiceUnavailable) {
  h.route(
      "<iq from='alice@example.com/a' to='example.com' type='set' id='s1'>"
      "<query xmlns='urn:example:unknown'><item/></query></iq>");
  EXPECT_EQ(alice->delivered(),
            Strings{"<iq id='s1' to='alice@example.com/a' from='example.com' type='error'>"
                    "<error type='cancel'><service-unavailable "
                    "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"});
}

TEST_F(RouterIqTest, IqToUnconnectedFullJidBouncesServiceUnavailable) {
  auto phone = h.bind("bob@example.com/phone", 5);
  h.route(
      "<iq from='alice@example.com/a' to='bob@example.com/gone' type='get' id='q1'>"
      "<query xmlns='jabber:iq:version'/></iq>");
  EXPECT_TRUE(phone->delivered().empty());  // never to another resource
  EXPECT_EQ(alice->delivered(),
            Strings{"<iq id='q1' to='alice@example.com/a' from='bob@example.com/gone' "
                    "type='error'><error type='cancel'><service-unavailable "
                    "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"});
}

TEST_F(RouterIqTest, IqToConnectedFullJidIsDeliveredUnchanged) {
  auto phone = h.bind("bob@example.com/phone", -1);
  const std::string iq =
      "<iq from='alice@example.com/a' to='bob@example.com/phone' type='get' id='q1'>"
      "<query xmlns='jabber:iq:version'/></iq>";
  h.route(iq);
  EXPECT_EQ(phone->delivered(), Strings{iq});
  EXPECT_TRUE(alice->delivered().empty());
}

TEST_F(RouterIqTest, ResultToUnconnectedFullJidIsDropped) {
  h.route("<iq from='alice@example.com/a' to='bob@example.com/gone' type='result' id='q1'/>");
  h.route(
      "<iq from='alice@example.com/a' to='bob@example.com/gone' type='error' id='q2'>"
      "<error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
      "</error></iq>");
  EXPECT_TRUE(alice->delivered().empty());
}

TEST_F(RouterIqTest, IqWithTwoChildrenIsABadRequest) {
  int calls = 0;
  auto token = h.router.iq().add_sync(IqTarget::kServer, IqType::kGet, "jabber:iq:version",
                                      [&](const IqRequest&) -> IqReply {
                                        ++calls;
                                        return version_payload();
                                      });
  h.route(
      "<iq from='alice@example.com/a' to='example.com' type='get' id='b1'>"
      "<query xmlns='jabber:iq:version'/><query xmlns='jabber:iq:version'/></iq>");
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(alice->delivered(),
            Strings{"<iq id='b1' to='alice@example.com/a' from='example.com' type='error'>"
                    "<error type='modify'><bad-request "
                    "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text "
                    "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>an iq get/set has exactly one "
                    "child</text></error></iq>"});
}

TEST_F(RouterIqTest, IqGetWithoutChildIsABadRequest) {
  h.route("<iq from='alice@example.com/a' to='example.com' type='get' id='b2'/>");
  EXPECT_EQ(alice->delivered(),
            Strings{"<iq id='b2' to='alice@example.com/a' from='example.com' type='error'>"
                    "<error type='modify'><bad-request "
                    "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text "
                    "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>an iq get/set has exactly one "
                    "child</text></error></iq>"});
}

TEST_F(RouterIqTest, ResultToTheDomainIsNotAnswered) {
  h.route("<iq from='alice@example.com/a' to='example.com' type='result' id='r1'/>");
  h.route(
      "<iq from='alice@example.com/a' to='example.com' type='error' id='r2'>"
      "<error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
      "</error></iq>");
  EXPECT_TRUE(alice->delivered().empty());
}

TEST_F(RouterIqTest, ServerHandlerAnswersWithItsPayloadFromTheDomain) {
  Strings requests;
  auto token = h.router.iq().add_sync(IqTarget::kServer, IqType::kGet, "jabber:iq:version",
                                      [&](const IqRequest& req) -> IqReply {
                                        requests.push_back(describe(req));
                                        return version_payload();
                                      });
  h.route(
      "<iq from='alice@example.com/a' to='example.com' type='get' id='v1'>"
      "<query xmlns='jabber:iq:version'/></iq>");
  EXPECT_EQ(requests, Strings{"alice@example.com/a -> example.com get "
                              "<query xmlns='jabber:iq:version'/>"});
  EXPECT_EQ(alice->delivered(),
            Strings{"<iq id='v1' to='alice@example.com/a' from='example.com' type='result'>"
                    "<query xmlns='jabber:iq:version'><name>Tern</name></query></iq>"});
}

TEST_F(RouterIqTest, ServerHandlerWithoutPayloadAnswersAnEmptyResult) {
  auto token = h.router.iq().add_sync(IqTarget::kServer, IqType::kGet, "urn:xmpp:ping",
                                      [](const IqRequest&) { return IqReply::result(); });
  h.route(
      "<iq from='alice@example.com/a' to='example.com' type='get' id='p1'>"
      "<ping xmlns='urn:xmpp:ping'/></iq>");
  EXPECT_EQ(alice->delivered(),
            Strings{"<iq id='p1' to='alice@example.com/a' from='example.com' type='result'/>"});
}

TEST_F(RouterIqTest, AsyncHandlerAnswers) {
  auto token = h.router.iq().add(IqTarget::kServer, IqType::kSet, "urn:example:async",
                                 [](const IqRequest& req) -> awaitable<IqReply> {
                                   xml::Element done("done", "urn:example:async");
                                   done.set_attr("for", req.stanza.attr_or("id"));
                                   co_return done;
                                 });
  h.route(
      "<iq from='alice@example.com/a' to='example.com' type='set' id='a1'>"
      "<do xmlns='urn:example:async'/></iq>");
  EXPECT_EQ(alice->delivered(),
            Strings{"<iq id='a1' to='alice@example.com/a' from='example.com' type='result'>"
                    "<done xmlns='urn:example:async' for='a1'/></iq>"});
}

TEST_F(RouterIqTest, HandlerForSetDoesNotAnswerGet) {
  auto token =
      h.router.iq().add_sync(IqTarget::kServer, IqType::kSet, "jabber:iq:version",
                             [](const IqRequest&) -> IqReply { return version_payload(); });
  h.route(
      "<iq from='alice@example.com/a' to='example.com' type='get' id='v1'>"
      "<query xmlns='jabber:iq:version'/></iq>");
  EXPECT_EQ(alice->delivered(),
            Strings{"<iq id='v1' to='alice@example.com/a' from='example.com' type='error'>"
                    "<error type='cancel'><service-unavailable "
                    "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"});
}

TEST_F(RouterIqTest, HandlerErrorBecomesAnErrorReply) {
  auto token = h.router.iq().add_sync(
      IqTarget::kServer, IqType::kGet, "jabber:iq:version", [](const IqRequest&) -> IqReply {
        return StanzaError(StanzaCondition::kItemNotFound, "no such thing");
      });
  h.route(
      "<iq from='alice@example.com/a' to='example.com' type='get' id='v1'>"
      "<query xmlns='jabber:iq:version'/></iq>");
  EXPECT_EQ(alice->delivered(),
            Strings{"<iq id='v1' to='alice@example.com/a' from='example.com' type='error'>"
                    "<error type='cancel'><item-not-found "
                    "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text "
                    "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>no such thing</text></error>"
                    "</iq>"});
}

TEST_F(RouterIqTest, HandlerThatThrowsIsAnsweredWithInternalServerError) {
  auto token = h.router.iq().add_sync(
      IqTarget::kServer, IqType::kGet, "jabber:iq:version",
      [](const IqRequest&) -> IqReply { throw std::runtime_error("module bug"); });
  h.route(
      "<iq from='alice@example.com/a' to='example.com' type='get' id='v1'>"
      "<query xmlns='jabber:iq:version'/></iq>");
  EXPECT_EQ(alice->delivered(),
            Strings{"<iq id='v1' to='alice@example.com/a' from='example.com' type='error'>"
                    "<error type='cancel'><internal-server-error "
                    "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"});
  // The router is still fine afterwards.
  h.route(
      "<iq from='alice@example.com/a' to='example.com' type='get' id='v2'>"
      "<query xmlns='urn:example:unknown'/></iq>");
  EXPECT_EQ(alice->delivered().size(), 2u);
}

TEST_F(RouterIqTest, AsyncHandlerThatThrowsIsAnsweredWithInternalServerError) {
  auto token = h.router.iq().add(IqTarget::kServer, IqType::kGet, "jabber:iq:version",
                                 [](const IqRequest&) -> awaitable<IqReply> {
                                   throw std::runtime_error("module bug");
                                   co_return IqReply::result();
                                 });
  h.route(
      "<iq from='alice@example.com/a' to='example.com' type='get' id='v1'>"
      "<query xmlns='jabber:iq:version'/></iq>");
  EXPECT_EQ(alice->delivered(),
            Strings{"<iq id='v1' to='alice@example.com/a' from='example.com' type='error'>"
                    "<error type='cancel'><internal-server-error "
                    "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"});
}

TEST_F(RouterIqTest, AccountHandlerAnswersIqWithoutTo) {
  // RFC 6120 §10.3.3: no 'to' — the server answers for the sender's account,
  // and the reply carries no 'from' (§8.1.2.1).
  Strings requests;
  auto token = h.router.iq().add_sync(IqTarget::kAccount, IqType::kGet, "jabber:iq:roster",
                                      [&](const IqRequest& req) -> IqReply {
                                        requests.push_back(describe(req));
                                        return xml::Element("query", "jabber:iq:roster");
                                      });
  h.route(
      "<iq from='alice@example.com/a' type='get' id='r1'><query xmlns='jabber:iq:roster'/>"
      "</iq>");
  EXPECT_EQ(requests, Strings{"alice@example.com/a -> alice@example.com get "
                              "<query xmlns='jabber:iq:roster'/>"});
  EXPECT_EQ(alice->delivered(), Strings{"<iq id='r1' to='alice@example.com/a' type='result'>"
                                        "<query xmlns='jabber:iq:roster'/></iq>"});
}

TEST_F(RouterIqTest, AccountHandlerAnswersIqToABareJidFromThatJid) {
  Strings requests;
  auto token = h.router.iq().add_sync(IqTarget::kAccount, IqType::kGet, "vcard-temp",
                                      [&](const IqRequest& req) -> IqReply {
                                        requests.push_back(describe(req));
                                        return xml::Element("vCard", "vcard-temp");
                                      });
  auto phone = h.bind("bob@example.com/phone", 5);
  h.route(
      "<iq from='alice@example.com/a' to='bob@example.com' type='get' id='c1'>"
      "<vCard xmlns='vcard-temp'/></iq>");
  EXPECT_EQ(requests,
            Strings{"alice@example.com/a -> bob@example.com get <vCard xmlns='vcard-temp'/>"});
  EXPECT_TRUE(phone->delivered().empty());  // the server answers for the account
  EXPECT_EQ(alice->delivered(),
            Strings{"<iq id='c1' to='alice@example.com/a' from='bob@example.com' type='result'>"
                    "<vCard xmlns='vcard-temp'/></iq>"});
}

TEST_F(RouterIqTest, IqToABareJidWithoutAccountHandlerBouncesAndIsNotDelivered) {
  auto phone = h.bind("bob@example.com/phone", 5);
  h.route(
      "<iq from='alice@example.com/a' to='bob@example.com' type='get' id='c1'>"
      "<query xmlns='urn:example:unknown'/></iq>");
  EXPECT_TRUE(phone->delivered().empty());
  EXPECT_EQ(alice->delivered(),
            Strings{"<iq id='c1' to='alice@example.com/a' from='bob@example.com' type='error'>"
                    "<error type='cancel'><service-unavailable "
                    "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"});
}

TEST_F(RouterIqTest, AccountHandlerDoesNotAnswerForTheDomain) {
  auto token = h.router.iq().add_sync(
      IqTarget::kAccount, IqType::kGet, "jabber:iq:roster",
      [](const IqRequest&) -> IqReply { return xml::Element("query", "jabber:iq:roster"); });
  h.route(
      "<iq from='alice@example.com/a' to='example.com' type='get' id='r1'>"
      "<query xmlns='jabber:iq:roster'/></iq>");
  EXPECT_EQ(alice->delivered(),
            Strings{"<iq id='r1' to='alice@example.com/a' from='example.com' type='error'>"
                    "<error type='cancel'><service-unavailable "
                    "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"});
}

TEST_F(RouterIqTest, ServerHandlerAlsoAnswersIqWithoutTo) {
  auto token = h.router.iq().add_sync(IqTarget::kServer, IqType::kGet, "urn:xmpp:ping",
                                      [](const IqRequest&) { return IqReply::result(); });
  h.route("<iq from='alice@example.com/a' type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>");
  EXPECT_EQ(alice->delivered(), Strings{"<iq id='p1' to='alice@example.com/a' type='result'/>"});
}

TEST_F(RouterIqTest, AccountHandlerWinsOverServerHandlerForIqWithoutTo) {
  auto server = h.router.iq().add_sync(
      IqTarget::kServer, IqType::kGet, "urn:example:both",
      [](const IqRequest&) -> IqReply { return xml::Element("server", "urn:example:both"); });
  auto account = h.router.iq().add_sync(
      IqTarget::kAccount, IqType::kGet, "urn:example:both",
      [](const IqRequest&) -> IqReply { return xml::Element("account", "urn:example:both"); });
  h.route("<iq from='alice@example.com/a' type='get' id='x1'><q xmlns='urn:example:both'/></iq>");
  h.route(
      "<iq from='alice@example.com/a' to='example.com' type='get' id='x2'>"
      "<q xmlns='urn:example:both'/></iq>");
  EXPECT_EQ(alice->delivered(),
            (Strings{"<iq id='x1' to='alice@example.com/a' type='result'>"
                     "<account xmlns='urn:example:both'/></iq>",
                     "<iq id='x2' to='alice@example.com/a' from='example.com' type='result'>"
                     "<server xmlns='urn:example:both'/></iq>"}));
}

TEST_F(RouterIqTest, ServerHandlerDoesNotAnswerForAnAccountAddressedByName) {
  auto token = h.router.iq().add_sync(IqTarget::kServer, IqType::kGet, "urn:xmpp:ping",
                                      [](const IqRequest&) { return IqReply::result(); });
  h.route(
      "<iq from='alice@example.com/a' to='bob@example.com' type='get' id='p1'>"
      "<ping xmlns='urn:xmpp:ping'/></iq>");
  EXPECT_EQ(alice->delivered(),
            Strings{"<iq id='p1' to='alice@example.com/a' from='bob@example.com' type='error'>"
                    "<error type='cancel'><service-unavailable "
                    "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"});
}

TEST_F(RouterIqTest, DroppedTokenUnregistersTheHandler) {
  auto token = h.router.iq().add_sync(IqTarget::kServer, IqType::kGet, "urn:xmpp:ping",
                                      [](const IqRequest&) { return IqReply::result(); });
  token.reset();
  h.route(
      "<iq from='alice@example.com/a' to='example.com' type='get' id='p1'>"
      "<ping xmlns='urn:xmpp:ping'/></iq>");
  EXPECT_EQ(alice->delivered(),
            Strings{"<iq id='p1' to='alice@example.com/a' from='example.com' type='error'>"
                    "<error type='cancel'><service-unavailable "
                    "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"});
}

TEST_F(RouterIqTest, PreRouteCanTakeAnIqBeforeItsHandler) {
  int handler_calls = 0;
  auto handler = h.router.iq().add_sync(IqTarget::kServer, IqType::kGet, "urn:xmpp:ping",
                                        [&](const IqRequest&) {
                                          ++handler_calls;
                                          return IqReply::result();
                                        });
  auto hook = h.router.hooks().pre_route.add([](RoutedStanza&) { return core::Verdict::kHandled; });
  h.route(
      "<iq from='alice@example.com/a' to='example.com' type='get' id='p1'>"
      "<ping xmlns='urn:xmpp:ping'/></iq>");
  EXPECT_EQ(handler_calls, 0);
  EXPECT_TRUE(alice->delivered().empty());
}

}  // namespace
}  // namespace tern::router
