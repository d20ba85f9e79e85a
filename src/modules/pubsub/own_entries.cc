#include "modules/pubsub/own_entries.h"

#include "modules/pubsub/request.h"

namespace tern::modules::pubsub {

std::vector<OwnEntry> read_own_entries(storage::PubsubStore& store, const std::string& service,
                                       const xmpp::Jid& requester, bool subscriptions,
                                       bool owns_service, const std::string& node) {
  std::vector<OwnEntry> found;
  const auto wanted = [&](const std::string& n) { return node.empty() || n == node; };
  const std::string bare = requester.bare_string();
  if (subscriptions) {
    for (const auto& jid : {bare, requester.to_string()}) {
      // subscriptions_of gives (node, state) pairs.
      for (auto& e : store.subscriptions_of(service, jid))
        if (wanted(e.jid)) found.push_back({std::move(e.jid), jid, std::move(e.value)});
      if (requester.is_bare()) break;
    }
    return found;
  }
  for (auto& n : store.nodes(service)) {
    if (!wanted(n.node)) continue;
    if (owns_service) {
      found.push_back({std::move(n.node), {}, "owner"});
      continue;
    }
    for (auto& a : store.affiliations(service, n.node))
      if (a.jid == bare) found.push_back({n.node, {}, std::move(a.value)});
  }
  return found;
}

xml::Element own_entries_result(bool subscriptions, const std::vector<OwnEntry>& entries) {
  xml::Element reply("pubsub", kNs);
  auto& list = reply.add_child(subscriptions ? "subscriptions" : "affiliations");
  for (const auto& e : entries) {
    auto& el = list.add_child(subscriptions ? "subscription" : "affiliation");
    el.set_attr("node", e.node);
    if (subscriptions) el.set_attr("jid", e.jid);
    el.set_attr(subscriptions ? "subscription" : "affiliation", e.value);
  }
  return reply;
}

}  // namespace tern::modules::pubsub
