// Stanza and stream error builders (RFC 6120 §8.3 and §4.9).
#include "xmpp/errors.h"

#include "xmpp/namespaces.h"
#include "xml/serializer.h"

namespace tern::xmpp {

const char* condition_name(StanzaCondition c) {
  switch (c) {
    case StanzaCondition::kBadRequest:
      return "bad-request";
    case StanzaCondition::kConflict:
      return "conflict";
    case StanzaCondition::kFeatureNotImplemented:
      return "feature-not-implemented";
    case StanzaCondition::kForbidden:
      return "forbidden";
    case StanzaCondition::kGone:
      return "gone";
    case StanzaCondition::kInternalServerError:
      return "internal-server-error";
    case StanzaCondition::kItemNotFound:
      return "item-not-found";
    case StanzaCondition::kJidMalformed:
      return "jid-malformed";
    case StanzaCondition::kNotAcceptable:
      return "not-acceptable";
    case StanzaCondition::kNotAllowed:
      return "not-allowed";
    case StanzaCondition::kNotAuthorized:
      return "not-authorized";
    case StanzaCondition::kPolicyViolation:
      return "policy-violation";
    case StanzaCondition::kRecipientUnavailable:
      return "recipient-unavailable";
    case StanzaCondition::kRedirect:
      return "redirect";
    case StanzaCondition::kRegistrationRequired:
      return "registration-required";
    case StanzaCondition::kRemoteServerNotFound:
      return "remote-server-not-found";
    case StanzaCondition::kRemoteServerTimeout:
      return "remote-server-timeout";
    case StanzaCondition::kResourceConstraint:
      return "resource-constraint";
    case StanzaCondition::kServiceUnavailable:
      return "service-unavailable";
    case StanzaCondition::kSubscriptionRequired:
      return "subscription-required";
    case StanzaCondition::kUndefinedCondition:
      return "undefined-condition";
    case StanzaCondition::kUnexpectedRequest:
      return "unexpected-request";
  }
  return "undefined-condition";  // not reached: every enumerator is listed
}

// Each condition's paragraph in RFC 6120 §8.3.3 ends "the associated error
// type SHOULD be ...". Where it names two, the first is taken unless noted.
ErrorType default_type(StanzaCondition c) {
  switch (c) {
    case StanzaCondition::kBadRequest:
      return ErrorType::kModify;  // §8.3.3.1
    case StanzaCondition::kConflict:
      return ErrorType::kCancel;  // §8.3.3.2
    // §8.3.3.3 "cancel" or "modify": the server will not grow the feature if
    // the client retries, so cancel.
    case StanzaCondition::kFeatureNotImplemented:
      return ErrorType::kCancel;
    case StanzaCondition::kForbidden:
      return ErrorType::kAuth;  // §8.3.3.4
    case StanzaCondition::kGone:
      return ErrorType::kCancel;  // §8.3.3.5
    // §8.3.3.6 says "cancel" (RFC 3920 said "wait"; 6120 changed it).
    case StanzaCondition::kInternalServerError:
      return ErrorType::kCancel;
    case StanzaCondition::kItemNotFound:
      return ErrorType::kCancel;  // §8.3.3.7
    case StanzaCondition::kJidMalformed:
      return ErrorType::kModify;  // §8.3.3.8
    case StanzaCondition::kNotAcceptable:
      return ErrorType::kModify;  // §8.3.3.9
    case StanzaCondition::kNotAllowed:
      return ErrorType::kCancel;  // §8.3.3.10
    case StanzaCondition::kNotAuthorized:
      return ErrorType::kAuth;  // §8.3.3.11
    // §8.3.3.12 "modify" or "wait" depending on the policy; rate limits,
    // the one policy that calls for "wait", pass the type explicitly.
    case StanzaCondition::kPolicyViolation:
      return ErrorType::kModify;
    case StanzaCondition::kRecipientUnavailable:
      return ErrorType::kWait;  // §8.3.3.13
    case StanzaCondition::kRedirect:
      return ErrorType::kModify;  // §8.3.3.14
    case StanzaCondition::kRegistrationRequired:
      return ErrorType::kAuth;  // §8.3.3.15
    case StanzaCondition::kRemoteServerNotFound:
      return ErrorType::kCancel;  // §8.3.3.16
    case StanzaCondition::kRemoteServerTimeout:
      return ErrorType::kWait;  // §8.3.3.17
    case StanzaCondition::kResourceConstraint:
      return ErrorType::kWait;  // §8.3.3.18
    case StanzaCondition::kServiceUnavailable:
      return ErrorType::kCancel;  // §8.3.3.19
    case StanzaCondition::kSubscriptionRequired:
      return ErrorType::kAuth;  // §8.3.3.20
    // §8.3.3.21 allows any type; "cancel" tells the sender not to retry
    // something we could not even classify.
    case StanzaCondition::kUndefinedCondition:
      return ErrorType::kCancel;
    // §8.3.3.22 "wait" or "modify": an out-of-order request usually succeeds
    // once the state it depends on is reached, so wait.
    case StanzaCondition::kUnexpectedRequest:
      return ErrorType::kWait;
  }
  return ErrorType::kCancel;
}

const char* type_name(ErrorType t) {
  switch (t) {
    case ErrorType::kAuth:
      return "auth";
    case ErrorType::kCancel:
      return "cancel";
    case ErrorType::kContinue:
      return "continue";
    case ErrorType::kModify:
      return "modify";
    case ErrorType::kWait:
      return "wait";
  }
  return "cancel";
}

xml::Element make_error_element(const StanzaError& err) {
  // RFC 6120 §8.3.2: <error type=…> in the stanza's namespace, holding the
  // defined condition, then optional <text/>, then the optional
  // application-specific condition. jabber:client here; make_error_reply
  // moves it into the namespace of the stanza it answers.
  xml::Element error("error", ns::kClient);
  error.set_attr("type", type_name(err.type));
  error.add_child(xml::Element(condition_name(err.condition), ns::kStanzaErrors));
  if (!err.text.empty()) {
    error.add_child(xml::Element("text", ns::kStanzaErrors)).add_text(err.text);
  }
  if (err.app) error.add_child(*err.app);
  return error;
}

namespace {

// The reply skeleton shared by errors and results: same name, namespace and
// id; 'to' and 'from' swapped, each only if the original had its partner
// (a stanza from a client has no 'from' until the server stamps it, and the
// reply to a stanza with no 'to' comes from the account or server itself).
xml::Element reply_skeleton(const xml::Element& stanza, std::string_view type) {
  xml::Element reply(stanza.name(), stanza.ns());
  if (auto id = stanza.attr("id")) reply.set_attr("id", *id);
  if (auto from = stanza.attr("from")) reply.set_attr("to", *from);
  if (auto to = stanza.attr("to")) reply.set_attr("from", *to);
  reply.set_attr("type", type);
  return reply;
}

}  // namespace

xml::Element make_error_reply(const xml::Element& stanza, const StanzaError& err) {
  xml::Element reply = reply_skeleton(stanza, "error");
  // RFC 6120 §8.3.1 lets the error carry the original payload. Messages and
  // presence keep it (the sender learns which message bounced); iq replies
  // drop it: the requester knows its own request by id, and queries such as
  // a roster push or a vCard upload can be large.
  if (stanza.name() != "iq") {
    for (const xml::Node& n : stanza.nodes()) {
      if (n.is_text()) {
        reply.add_text(n.text);
      } else {
        reply.add_child(*n.element);
      }
    }
  }
  xml::Element error = make_error_element(err);
  error.set_ns(stanza.ns());
  reply.add_child(std::move(error));
  return reply;
}

xml::Element make_iq_result(const xml::Element& request) {
  return reply_skeleton(request, "result");
}

const char* condition_name(StreamCondition c) {
  switch (c) {
    case StreamCondition::kBadFormat:
      return "bad-format";
    case StreamCondition::kBadNamespacePrefix:
      return "bad-namespace-prefix";
    case StreamCondition::kConflict:
      return "conflict";
    case StreamCondition::kConnectionTimeout:
      return "connection-timeout";
    case StreamCondition::kHostGone:
      return "host-gone";
    case StreamCondition::kHostUnknown:
      return "host-unknown";
    case StreamCondition::kImproperAddressing:
      return "improper-addressing";
    case StreamCondition::kInternalServerError:
      return "internal-server-error";
    case StreamCondition::kInvalidFrom:
      return "invalid-from";
    case StreamCondition::kInvalidNamespace:
      return "invalid-namespace";
    case StreamCondition::kInvalidXml:
      return "invalid-xml";
    case StreamCondition::kNotAuthorized:
      return "not-authorized";
    case StreamCondition::kNotWellFormed:
      return "not-well-formed";
    case StreamCondition::kPolicyViolation:
      return "policy-violation";
    case StreamCondition::kRemoteConnectionFailed:
      return "remote-connection-failed";
    case StreamCondition::kReset:
      return "reset";
    case StreamCondition::kResourceConstraint:
      return "resource-constraint";
    case StreamCondition::kRestrictedXml:
      return "restricted-xml";
    case StreamCondition::kSeeOtherHost:
      return "see-other-host";
    case StreamCondition::kSystemShutdown:
      return "system-shutdown";
    case StreamCondition::kUndefinedCondition:
      return "undefined-condition";
    case StreamCondition::kUnsupportedEncoding:
      return "unsupported-encoding";
    case StreamCondition::kUnsupportedFeature:
      return "unsupported-feature";
    case StreamCondition::kUnsupportedStanzaType:
      return "unsupported-stanza-type";
    case StreamCondition::kUnsupportedVersion:
      return "unsupported-version";
  }
  return "undefined-condition";
}

std::string stream_error_xml(StreamCondition c, std::string_view text) {
  // Written as text, not through the element tree: a stream error is sent
  // once, often when the stream is already in trouble (even before a parser
  // exists for it), and the stream: prefix is always bound on our streams.
  std::string out = "<stream:error><";
  out += condition_name(c);
  out += " xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>";
  if (!text.empty()) {
    out += "<text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>";
    xml::append_escaped_text(out, text);
    out += "</text>";
  }
  out += "</stream:error>";
  return out;
}

}  // namespace tern::xmpp
