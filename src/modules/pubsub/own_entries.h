// XEP-0060 §5.6 / §5.7: a requester's own subscriptions or affiliations
// across one service. The pubsub service and PEP answer alike.
#pragma once

#include <string>
#include <vector>

#include "storage/storage.h"
#include "xml/element.h"
#include "xmpp/jid.h"

namespace tern::modules::pubsub {

struct OwnEntry {
  std::string node;
  std::string jid;    // the subscribed address, bare or full; empty for an affiliation
  std::string value;  // subscription state or affiliation
};

// Blocking (storage reads). Subscriptions are those of the requester's
// bare and full address. `owns_service`: the requester owns every node,
// stored or not (PEP: the account itself). `node` not empty: that node only.
std::vector<OwnEntry> read_own_entries(storage::PubsubStore& store, const std::string& service,
                                       const xmpp::Jid& requester, bool subscriptions,
                                       bool owns_service, const std::string& node);

// The result's <pubsub><subscriptions/></pubsub> or <pubsub><affiliations/></pubsub>.
xml::Element own_entries_result(bool subscriptions, const std::vector<OwnEntry>& entries);

}  // namespace tern::modules::pubsub
