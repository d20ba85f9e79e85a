// XEP-0191 blocking command.
//
// Lists: get, block, unblock, unblock-all on the user's own account; pushes
// go to the user's resources that fetched the blocklist in their session
// (XEP-0191 §3.3 "resources that have requested the blocklist").
//
// Enforcement, in the router's pre_route hook (it sees every routed stanza
// with both addresses, whichever way it goes):
// - from a blocked JID to the user (§3.3): presence dropped; message bounced
//   with <service-unavailable/>; iq get/set bounced with
//   <service-unavailable/>; iq result/error and message errors dropped.
// - from the user to a blocked JID: message and iq get/set answered with
//   <not-acceptable/> + <blocked xmlns='urn:xmpp:blocking:errors'/>; presence
//   dropped quietly (broadcasts to a blocked subscriber must not error back);
//   errors pass (the server's own bounces to the blocked JID are errors);
//   iq results dropped.
// - the server's own domains are never blocked either way, so a user
//   cannot cut themselves off from their server.
// On block, contacts with a 'from'/'both' subscription that become blocked
// get unavailable presence from each available resource; on unblock they get
// each available resource's current presence.
//
// Lists are cached in memory per account, loaded on first use (or when a
// session binds), dropped when the account's last session ends. A stanza
// that needs a list not yet loaded waits for it and is then routed again.
#pragma once

#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "modules/module.h"

namespace tern::modules {

std::unique_ptr<Module> start_blocking(ModuleContext& ctx);

namespace blocking {

inline constexpr const char* kNs = "urn:xmpp:blocking";
inline constexpr const char* kErrorsNs = "urn:xmpp:blocking:errors";

// One account's blocked JIDs, normalised (Jid::to_string of each item).
class Blocklist {
 public:
  Blocklist() = default;
  explicit Blocklist(const std::vector<std::string>& items) : items_(items.begin(), items.end()) {}
  // XEP-0191 §"JID Matching" (as XEP-0016): user@domain/resource, then
  // user@domain, then domain/resource, then domain — which also covers its
  // subdomains.
  bool blocks(const xmpp::Jid& who) const;
  void add(const std::string& item) { items_.insert(item); }
  void remove(const std::string& item) { items_.erase(item); }
  void clear() { items_.clear(); }
  bool empty() const { return items_.empty(); }
  std::vector<std::string> sorted() const;

 private:
  std::unordered_set<std::string> items_;
};

// The <item jid='…'/> children of a block/unblock request, normalised;
// nullopt if an item has no 'jid' or an invalid one.
std::optional<std::vector<std::string>> parse_items(const xml::Element& command);
// <name xmlns='urn:xmpp:blocking'><item jid='…'/>…</name>
xml::Element make_command(std::string_view name, const std::vector<std::string>& items);

}  // namespace blocking
}  // namespace tern::modules
