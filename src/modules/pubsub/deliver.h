// Sending one pubsub event to many JIDs (PEP contacts, service subscribers):
// the <event/> is serialised once by the caller; each recipient gets that
// text inside its own <message type='headline'/> shell, as bytes on its own
// shard when local (no element tree copied or serialised per recipient),
// and as a routed element when remote.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "modules/module.h"
#include "modules/pubsub/subscription_options.h"

namespace tern::modules::pubsub {

// `from`: the service (an account's bare JID, or the pubsub domain).
// Returns how many recipients it went to (local sessions or routed).
std::size_t deliver_event(const Host& host, const std::string& from,
                          const std::set<std::string>& recipients, const std::string& event_xml);

// A subscriber of a service node and how it wants its notifications.
struct Subscriber {
  std::string jid;
  SubscriptionOptions options;
};

// deliver_event, honouring each subscriber's options (XEP-0060 §6.3):
// nothing for deliver=false; `body` as a <body/> for include_body; and for
// local sessions, only those whose presence show is one of show-values
// (a remote subscriber's presence is not known here: it gets everything).
// Subscribers with the default options share one serialized message each,
// as with deliver_event.
std::size_t deliver_to_subscribers(const Host& host, const std::string& from,
                                   const std::vector<Subscriber>& subscribers,
                                   const std::string& event_xml, const std::string& body);

}  // namespace tern::modules::pubsub
