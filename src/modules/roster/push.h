// Roster pushes (RFC 6121 §2.1.6) and the lock that keeps read-modify-write
// of one account's roster rows whole. Shared by the roster and presence
// modules: both change rosters.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>

#include "modules/module.h"
#include "xml/element.h"
#include "xmpp/jid.h"

namespace tern::modules::roster {

// Held around item() … put() of one owner's roster (on the blocking pool or
// the presence worker, never on a shard). Striped by bare JID.
std::unique_lock<std::mutex> lock_account(const std::string& owner_bare);

// The push itself: <iq type='set' to=full><query ver><item/></query></iq>.
xml::Element push_stanza(const xml::Element& item, std::int64_t version, const xmpp::Jid& to);

// What the roster module keeps per session, in its module state (touched
// on the session's shard only): whether it asked for the roster, which
// makes it an "interested resource" that gets pushes (RFC 6121 §2.1.6).
struct SessionRoster {
  bool requested = false;
};

// Sends `item` to every interested resource of `owner` (one that asked for
// the roster), each on its own shard. Callable from any thread.
void push(const Host& host, const xmpp::Jid& owner, const xml::Element& item,
          std::int64_t version);

}  // namespace tern::modules::roster
