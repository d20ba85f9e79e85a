// Sending one pubsub event to many JIDs (PEP contacts, service subscribers):
// the <event/> is serialised once by the caller; each recipient gets that
// text inside its own <message type='headline'/> shell, as bytes on its own
// shard when local (no element tree copied or serialised per recipient),
// and as a routed element when remote.
#pragma once

#include <set>
#include <string>

#include "modules/module.h"

namespace tern::modules::pubsub {

// `from`: the service (an account's bare JID, or the pubsub domain).
// Returns how many recipients it went to (local sessions or routed).
std::size_t deliver_event(const Host& host, const std::string& from,
                          const std::set<std::string>& recipients, const std::string& event_xml);

}  // namespace tern::modules::pubsub
