// What the presence module keeps per session (RFC 6121 §4), in the
// session's module state (router::SessionStateSlots). Published on purpose:
// the blocking module ends directed presence and re-sends the current
// presence when a contact is blocked or unblocked (XEP-0191 §3.3-3.4).
// Touched on the session's own shard only (Host::on_shard_of from elsewhere).
#pragma once

#include <optional>
#include <set>
#include <string>

#include "xml/element.h"

namespace tern::modules::presence {

struct SessionPresence {
  // The latest available presence the session broadcast, 'from' its full
  // JID; empty before initial presence and after unavailable.
  std::optional<xml::Element> last_presence;
  // JIDs it sent directed presence to (§4.6), told when it goes away.
  std::set<std::string> directed_to;
};

}  // namespace tern::modules::presence
