// XEP-0050 ad-hoc commands with XEP-0133 service administration.
#pragma once
#include <string>
#include <vector>

#include "modules/module.h"

namespace tern::modules {
std::unique_ptr<Module> start_adhoc(ModuleContext& ctx);

// A command as XEP-0050 §2.2 lists it: a disco#items <item/> of the server
// under the node "http://jabber.org/protocol/commands".
struct AdhocCommandItem {
  std::string node;
  std::string name;
};

// The commands `requester` (a full or bare JID) may execute: every XEP-0133
// command for a bare JID listed in server.admins, none for anyone else.
// For the disco module's answer on the commands node.
std::vector<AdhocCommandItem> adhoc_commands_for(const core::Config& config,
                                                 const xmpp::Jid& requester);
}  // namespace tern::modules
