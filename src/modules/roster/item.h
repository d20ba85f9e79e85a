// Roster items on the wire (RFC 6121 §2.1.2) and the validation of a roster
// set (§2.3.3). Pure functions: no storage, no routing.
#pragma once

#include <cstddef>
#include <string>
#include <variant>
#include <vector>

#include "storage/storage.h"
#include "xml/element.h"
#include "xmpp/errors.h"

namespace tern::modules::roster {

inline constexpr const char* kNs = "jabber:iq:roster";
// Longest name or group accepted, in bytes (the size of a JID part).
inline constexpr std::size_t kMaxTextBytes = 1023;

// What a valid roster set asks for.
struct RosterSet {
  std::string jid;  // normalised bare JID
  std::string name;
  std::vector<std::string> groups;
  bool remove = false;
};

// Checks a roster-set <query/>: exactly one <item/>, a bare JID, no
// duplicate or empty group, name and groups at most `max_text` bytes.
// 'ask', 'approved' and any 'subscription' other than "remove" are ignored
// as RFC 6121 §2.1.2 tells the server to.
std::variant<RosterSet, xmpp::StanzaError> parse_roster_set(const xml::Element& query,
                                                            std::size_t max_text = kMaxTextBytes);

// The contact gets the owner's presence: subscription 'from' or 'both'
// (RFC 6121 §3). And the other way: 'to' or 'both'.
inline bool contact_sees_presence(const storage::RosterItem& item) {
  return item.subscription == "from" || item.subscription == "both";
}
inline bool owner_sees_presence(const storage::RosterItem& item) {
  return item.subscription == "to" || item.subscription == "both";
}

// A stored item the user has never seen: created only by an inbound
// subscription request (RFC 6121 §3.1.3), kept out of roster results and
// pushes until the user acts on it.
bool is_hidden(const storage::RosterItem& item);

// <item jid name subscription ask approved><group/>…</item>
xml::Element item_element(const storage::RosterItem& item);
// <item jid subscription='remove'/>, for the push after a removal (§2.5.2).
xml::Element removed_item_element(const std::string& jid);

}  // namespace tern::modules::roster
