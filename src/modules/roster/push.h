// Roster pushes (RFC 6121 §2.1.6) and the lock that keeps read-modify-write
// of one account's roster rows whole. Shared by the roster and presence
// modules: both change rosters.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>

#include "router/router.h"
#include "xml/element.h"
#include "xmpp/jid.h"

namespace tern::modules::roster {

// Held around item() … put() of one owner's roster (on the blocking pool or
// the presence worker, never on a shard). Striped by bare JID.
std::unique_lock<std::mutex> lock_account(const std::string& owner_bare);

// The push itself: <iq type='set' to=full><query ver><item/></query></iq>.
xml::Element push_stanza(const xml::Element& item, std::int64_t version, const xmpp::Jid& to);

// Sends `item` to every interested resource of `owner` (one that asked for
// the roster), each on its own shard. Callable from any thread.
void push(router::Router& router, const xmpp::Jid& owner, const xml::Element& item,
          std::int64_t version);

}  // namespace tern::modules::roster
