#include "xmpp/errors.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "xmpp/namespaces.h"
#include "xml/serializer.h"

namespace tern::xmpp {
namespace {

using C = StanzaCondition;
using T = ErrorType;

TEST(StanzaErrorNames, EveryConditionHasItsRfc6120Name) {
  const std::vector<std::pair<C, std::string>> expected = {
      {C::kBadRequest, "bad-request"},
      {C::kConflict, "conflict"},
      {C::kFeatureNotImplemented, "feature-not-implemented"},
      {C::kForbidden, "forbidden"},
      {C::kGone, "gone"},
      {C::kInternalServerError, "internal-server-error"},
      {C::kItemNotFound, "item-not-found"},
      {C::kJidMalformed, "jid-malformed"},
      {C::kNotAcceptable, "not-acceptable"},
      {C::kNotAllowed, "not-allowed"},
      {C::kNotAuthorized, "not-authorized"},
      {C::kPolicyViolation, "policy-violation"},
      {C::kRecipientUnavailable, "recipient-unavailable"},
      {C::kRedirect, "redirect"},
      {C::kRegistrationRequired, "registration-required"},
      {C::kRemoteServerNotFound, "remote-server-not-found"},
      {C::kRemoteServerTimeout, "remote-server-timeout"},
      {C::kResourceConstraint, "resource-constraint"},
      {C::kServiceUnavailable, "service-unavailable"},
      {C::kSubscriptionRequired, "subscription-required"},
      {C::kUndefinedCondition, "undefined-condition"},
      {C::kUnexpectedRequest, "unexpected-request"},
  };
  ASSERT_EQ(expected.size(), static_cast<std::size_t>(C::kUnexpectedRequest) + 1);
  for (const auto& [c, name] : expected) EXPECT_EQ(condition_name(c), name);
}

TEST(StanzaErrorNames, DefaultTypesFollowRfc6120Section833) {
  const std::vector<std::pair<C, T>> expected = {
      {C::kBadRequest, T::kModify},
      {C::kConflict, T::kCancel},
      {C::kFeatureNotImplemented, T::kCancel},
      {C::kForbidden, T::kAuth},
      {C::kGone, T::kCancel},
      {C::kInternalServerError, T::kCancel},
      {C::kItemNotFound, T::kCancel},
      {C::kJidMalformed, T::kModify},
      {C::kNotAcceptable, T::kModify},
      {C::kNotAllowed, T::kCancel},
      {C::kNotAuthorized, T::kAuth},
      {C::kPolicyViolation, T::kModify},
      {C::kRecipientUnavailable, T::kWait},
      {C::kRedirect, T::kModify},
      {C::kRegistrationRequired, T::kAuth},
      {C::kRemoteServerNotFound, T::kCancel},
      {C::kRemoteServerTimeout, T::kWait},
      {C::kResourceConstraint, T::kWait},
      {C::kServiceUnavailable, T::kCancel},
      {C::kSubscriptionRequired, T::kAuth},
      {C::kUndefinedCondition, T::kCancel},
      {C::kUnexpectedRequest, T::kWait},
  };
  ASSERT_EQ(expected.size(), static_cast<std::size_t>(C::kUnexpectedRequest) + 1);
  for (const auto& [c, t] : expected) {
    EXPECT_EQ(default_type(c), t) << condition_name(c);
  }
}

TEST(StanzaErrorNames, TypeNames) {
  EXPECT_STREQ(type_name(T::kAuth), "auth");
  EXPECT_STREQ(type_name(T::kCancel), "cancel");
  EXPECT_STREQ(type_name(T::kContinue), "continue");
  EXPECT_STREQ(type_name(T::kModify), "modify");
  EXPECT_STREQ(type_name(T::kWait), "wait");
}

TEST(StanzaErrorValue, ConstructorsTakeTheDefaultTypeUnlessGiven) {
  EXPECT_EQ(StanzaError().condition, C::kUndefinedCondition);
  EXPECT_EQ(StanzaError().type, T::kCancel);
  const StanzaError e(C::kForbidden, "no");
  EXPECT_EQ(e.type, T::kAuth);
  EXPECT_EQ(e.text, "no");
  EXPECT_EQ(StanzaError(C::kPolicyViolation, T::kWait).type, T::kWait);
}

std::string xml_of(const xml::Element& el, std::string_view default_ns = ns::kClient) {
  return xml::to_string(el, default_ns);
}

TEST(MakeErrorElement, ConditionOnly) {
  const xml::Element e = make_error_element(StanzaError(C::kItemNotFound));
  EXPECT_EQ(e.name(), "error");
  EXPECT_EQ(e.ns(), ns::kClient);
  EXPECT_EQ(xml_of(e),
            "<error type='cancel'>"
            "<item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
            "</error>");
}

TEST(MakeErrorElement, TextIsEscapedAndFollowsTheCondition) {
  const xml::Element e = make_error_element(StanzaError(C::kBadRequest, "a < b & 'c'"));
  EXPECT_EQ(xml_of(e),
            "<error type='modify'>"
            "<bad-request xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
            "<text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>a &lt; b &amp; 'c'</text>"
            "</error>");
}

TEST(MakeErrorElement, ApplicationConditionComesLast) {
  const xml::Element app("unsupported", "http://jabber.org/protocol/pubsub#errors");
  StanzaError err(C::kFeatureNotImplemented, "no pubsub here");
  err.app = &app;
  EXPECT_EQ(xml_of(make_error_element(err)),
            "<error type='cancel'>"
            "<feature-not-implemented xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
            "<text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>no pubsub here</text>"
            "<unsupported xmlns='http://jabber.org/protocol/pubsub#errors'/>"
            "</error>");
}

TEST(MakeErrorElement, ExplicitTypeWins) {
  EXPECT_EQ(xml_of(make_error_element(StanzaError(C::kPolicyViolation, T::kWait))),
            "<error type='wait'>"
            "<policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
            "</error>");
}

xml::Element make_stanza(std::string name, std::vector<std::pair<std::string, std::string>> attrs,
                         std::string ns = ns::kClient) {
  xml::Element el(std::move(name), std::move(ns));
  for (const auto& [k, v] : attrs) el.set_attr(k, v);
  return el;
}

TEST(MakeErrorReply, IqDropsPayloadAndSwapsAddresses) {
  xml::Element iq = make_stanza("iq", {{"type", "get"},
                                       {"id", "q1"},
                                       {"from", "juliet@example.com/balcony"},
                                       {"to", "example.com"}});
  iq.add_child("query", "jabber:iq:version");
  EXPECT_EQ(xml_of(make_error_reply(iq, StanzaError(C::kServiceUnavailable))),
            "<iq id='q1' to='juliet@example.com/balcony' from='example.com' type='error'>"
            "<error type='cancel'>"
            "<service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
            "</error></iq>");
}

TEST(MakeErrorReply, MessageKeepsItsPayload) {
  xml::Element msg = make_stanza("message", {{"from", "romeo@example.net/orchard"},
                                             {"to", "juliet@example.com"},
                                             {"type", "chat"},
                                             {"id", "m1"}});
  msg.add_child("body").add_text("Art thou not Romeo?");
  msg.add_child("active", "http://jabber.org/protocol/chatstates");
  EXPECT_EQ(xml_of(make_error_reply(msg, StanzaError(C::kItemNotFound, "no such user"))),
            "<message id='m1' to='romeo@example.net/orchard' from='juliet@example.com' "
            "type='error'>"
            "<body>Art thou not Romeo?</body>"
            "<active xmlns='http://jabber.org/protocol/chatstates'/>"
            "<error type='cancel'>"
            "<item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
            "<text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>no such user</text>"
            "</error></message>");
}

TEST(MakeErrorReply, PresenceKeepsItsPayload) {
  xml::Element pres = make_stanza("presence", {{"to", "room@muc.example.com/nick"}});
  pres.add_child("x", "http://jabber.org/protocol/muc");
  EXPECT_EQ(xml_of(make_error_reply(pres, StanzaError(C::kRegistrationRequired))),
            "<presence from='room@muc.example.com/nick' type='error'>"
            "<x xmlns='http://jabber.org/protocol/muc'/>"
            "<error type='auth'>"
            "<registration-required xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
            "</error></presence>");
}

TEST(MakeErrorReply, MissingAddressesAndIdStayMissing) {
  // From a client before stamping: no 'from', so the reply has no 'to';
  // no 'to' (addressed to the account), so the reply has no 'from'.
  const xml::Element iq = make_stanza("iq", {{"type", "set"}});
  const xml::Element reply = make_error_reply(iq, StanzaError(C::kBadRequest));
  EXPECT_FALSE(reply.attr("to"));
  EXPECT_FALSE(reply.attr("from"));
  EXPECT_FALSE(reply.attr("id"));
  EXPECT_EQ(xml_of(reply),
            "<iq type='error'><error type='modify'>"
            "<bad-request xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
            "</error></iq>");
}

TEST(MakeErrorReply, ErrorTakesTheStanzaNamespace) {
  const xml::Element iq = make_stanza(
      "iq", {{"type", "get"}, {"id", "s2s"}, {"from", "a.example"}, {"to", "b.example"}},
      ns::kServer);
  const xml::Element reply = make_error_reply(iq, StanzaError(C::kRemoteServerTimeout));
  EXPECT_EQ(reply.ns(), ns::kServer);
  ASSERT_NE(reply.child("error"), nullptr);
  EXPECT_EQ(reply.child("error")->ns(), ns::kServer);
  EXPECT_EQ(xml_of(reply, ns::kServer),
            "<iq id='s2s' to='a.example' from='b.example' type='error'><error type='wait'>"
            "<remote-server-timeout xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
            "</error></iq>");
}

TEST(MakeErrorReply, DoesNotCopyOtherAttributes) {
  const xml::Element msg =
      make_stanza("message", {{"id", "x"}, {"type", "groupchat"}, {"xml:lang", "en"}});
  EXPECT_EQ(xml_of(make_error_reply(msg, StanzaError(C::kForbidden))),
            "<message id='x' type='error'><error type='auth'>"
            "<forbidden xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
            "</error></message>");
}

TEST(MakeIqResult, EmptyResultWithSwappedAddresses) {
  xml::Element iq = make_stanza("iq", {{"type", "get"},
                                       {"id", "ping1"},
                                       {"from", "juliet@example.com/balcony"},
                                       {"to", "example.com"}});
  iq.add_child("ping", "urn:xmpp:ping");
  EXPECT_EQ(xml_of(make_iq_result(iq)),
            "<iq id='ping1' to='juliet@example.com/balcony' from='example.com' type='result'/>");
  EXPECT_EQ(xml_of(make_iq_result(make_stanza("iq", {{"type", "get"}, {"id", "b"}}))),
            "<iq id='b' type='result'/>");
}

TEST(StreamError, ConditionOnly) {
  EXPECT_EQ(stream_error_xml(StreamCondition::kHostUnknown),
            "<stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
            "</stream:error>");
}

TEST(StreamError, WithEscapedText) {
  EXPECT_EQ(stream_error_xml(StreamCondition::kPolicyViolation, "stanza > 256 KiB & <more>"),
            "<stream:error><policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
            "<text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>"
            "stanza &gt; 256 KiB &amp; &lt;more&gt;</text></stream:error>");
}

TEST(StreamError, EveryConditionHasItsRfc6120Name) {
  using S = StreamCondition;
  const std::vector<std::pair<S, std::string>> expected = {
      {S::kBadFormat, "bad-format"},
      {S::kBadNamespacePrefix, "bad-namespace-prefix"},
      {S::kConflict, "conflict"},
      {S::kConnectionTimeout, "connection-timeout"},
      {S::kHostGone, "host-gone"},
      {S::kHostUnknown, "host-unknown"},
      {S::kImproperAddressing, "improper-addressing"},
      {S::kInternalServerError, "internal-server-error"},
      {S::kInvalidFrom, "invalid-from"},
      {S::kInvalidNamespace, "invalid-namespace"},
      {S::kInvalidXml, "invalid-xml"},
      {S::kNotAuthorized, "not-authorized"},
      {S::kNotWellFormed, "not-well-formed"},
      {S::kPolicyViolation, "policy-violation"},
      {S::kRemoteConnectionFailed, "remote-connection-failed"},
      {S::kReset, "reset"},
      {S::kResourceConstraint, "resource-constraint"},
      {S::kRestrictedXml, "restricted-xml"},
      {S::kSeeOtherHost, "see-other-host"},
      {S::kSystemShutdown, "system-shutdown"},
      {S::kUndefinedCondition, "undefined-condition"},
      {S::kUnsupportedEncoding, "unsupported-encoding"},
      {S::kUnsupportedFeature, "unsupported-feature"},
      {S::kUnsupportedStanzaType, "unsupported-stanza-type"},
      {S::kUnsupportedVersion, "unsupported-version"},
  };
  ASSERT_EQ(expected.size(), static_cast<std::size_t>(S::kUnsupportedVersion) + 1);
  for (const auto& [c, name] : expected) {
    EXPECT_EQ(condition_name(c), name);
    EXPECT_EQ(stream_error_xml(c), "<stream:error><" + name +
                                       " xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
                                       "</stream:error>");
  }
}

}  // namespace
}  // namespace tern::xmpp
