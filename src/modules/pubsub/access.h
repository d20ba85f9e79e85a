// Who may read a node (XEP-0060 §4.5 access models, with the errors of
// §6.1.3 / §6.5.9), decided from facts the caller loaded: pure, so every
// model and refusal is one unit test.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "modules/pubsub/node_config.h"
#include "xmpp/errors.h"

namespace tern::modules::pubsub {

struct Requester {
  bool is_owner = false;
  // The owner's roster item for the requester (PEP), if any.
  std::string subscription = "none";  // none | to | from | both
  std::vector<std::string> groups;
  std::string affiliation = "none";   // stored affiliation with the node
};

// nullopt: allowed. Otherwise the error the requester gets.
std::optional<xmpp::StanzaError> refuse_access(const NodeConfig& config, const Requester& who);

// Whether the requester's presence subscription lets it have notifications
// (PEP delivers to contacts with subscription from or both, XEP-0163 §4).
bool has_presence_subscription(const Requester& who);

}  // namespace tern::modules::pubsub
