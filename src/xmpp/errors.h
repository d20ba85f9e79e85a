// Stanza errors (RFC 6120 §8.3) and stream errors (RFC 6120 §4.9).
#pragma once

#include <string>
#include <string_view>

#include "xml/element.h"

namespace tern::xmpp {

enum class ErrorType { kAuth, kCancel, kContinue, kModify, kWait };

enum class StanzaCondition {
  kBadRequest, kConflict, kFeatureNotImplemented, kForbidden, kGone,
  kInternalServerError, kItemNotFound, kJidMalformed, kNotAcceptable,
  kNotAllowed, kNotAuthorized, kPolicyViolation, kRecipientUnavailable,
  kRedirect, kRegistrationRequired, kRemoteServerNotFound,
  kRemoteServerTimeout, kResourceConstraint, kServiceUnavailable,
  kSubscriptionRequired, kUndefinedCondition, kUnexpectedRequest
};
const char* condition_name(StanzaCondition c);  // "bad-request", …
// The type RFC 6120 §8.3.3 gives for each condition ("cancel" for most).
ErrorType default_type(StanzaCondition c);
const char* type_name(ErrorType t);

// A stanza error as a value: what handlers return instead of throwing.
struct StanzaError {
  StanzaCondition condition = StanzaCondition::kUndefinedCondition;
  ErrorType type = default_type(StanzaCondition::kUndefinedCondition);
  std::string text;                 // optional human-readable text
  const xml::Element* app = nullptr;  // optional application-specific condition

  StanzaError() = default;
  StanzaError(StanzaCondition c, std::string text_ = {})
      : condition(c), type(default_type(c)), text(std::move(text_)) {}
  StanzaError(StanzaCondition c, ErrorType t, std::string text_ = {})
      : condition(c), type(t), text(std::move(text_)) {}
};

// The <error/> child for a stanza error (namespace jabber:client).
xml::Element make_error_element(const StanzaError& err);
// The error reply to `stanza`: same name, namespace and id, to/from swapped
// (each only if the original had the other), type='error', original payload
// kept for messages/presence (RFC 6120 §8.3.1 "MAY include the original
// XML") and dropped for iq, the <error/> child appended. Callers must not
// answer a stanza of type='error' (RFC 6120 §8.3.1).
xml::Element make_error_reply(const xml::Element& stanza, const StanzaError& err);
// An empty iq result for `request` (same id, to/from swapped); add a payload
// with add_child.
xml::Element make_iq_result(const xml::Element& request);

enum class StreamCondition {
  kBadFormat, kBadNamespacePrefix, kConflict, kConnectionTimeout, kHostGone,
  kHostUnknown, kImproperAddressing, kInternalServerError, kInvalidFrom,
  kInvalidNamespace, kInvalidXml, kNotAuthorized, kNotWellFormed,
  kPolicyViolation, kRemoteConnectionFailed, kReset, kResourceConstraint,
  kRestrictedXml, kSeeOtherHost, kSystemShutdown, kUndefinedCondition,
  kUnsupportedEncoding, kUnsupportedFeature, kUnsupportedStanzaType,
  kUnsupportedVersion
};
const char* condition_name(StreamCondition c);
// "<stream:error><cond xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>…</stream:error>"
std::string stream_error_xml(StreamCondition c, std::string_view text = {});

}  // namespace tern::xmpp
