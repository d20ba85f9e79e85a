// XEP-0082 date and time profiles, as XMPP writes them on the wire
// (<delay stamp/>, XEP-0202 <utc/>, last activity, MAM).
#pragma once

#include <chrono>
#include <string>

#include "xml/element.h"

namespace tern::xmpp {

inline constexpr const char* kDelayNs = "urn:xmpp:delay";

// A UTC instant as XEP-0082 DateTime, whole seconds: "2026-11-21T18:00:00Z".
// Fractions are dropped by flooring, so an instant before 1970 does not
// round up into the next second.
std::string format_datetime(std::chrono::system_clock::time_point t);

// XEP-0203: appends <delay xmlns='urn:xmpp:delay' from='…' stamp='…'/> to a
// stanza the server hands over later than it received it (offline
// messages, the last unavailable presence of an account).
void add_delay(xml::Element& stanza, const std::string& from, std::chrono::system_clock::time_point t);

}  // namespace tern::xmpp
