// XEP-0050 ad-hoc commands with XEP-0133 service administration.
#pragma once
#include <string>
#include <vector>

#include "modules/module.h"

namespace tern::modules {
std::unique_ptr<Module> start_adhoc(ModuleContext& ctx);

// The commands `requester` (a full or bare JID) may execute, as XEP-0050
// §2.2 lists them in disco#items on the node
// "http://jabber.org/protocol/commands": every XEP-0133 command for a bare
// JID listed in server.admins, none for anyone else.
std::vector<DiscoItem> adhoc_commands_for(const core::Config& config,
                                                 const xmpp::Jid& requester);
}  // namespace tern::modules
