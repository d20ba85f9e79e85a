// XEP-0357 Push Notifications. An account's clients register app servers
// (a JID, a node and publish options) with <enable/>; while the account
// has no session that reads its messages (none at all, or a stream-managed
// one whose connection broke), each message worth waking the phone for is
// summarised and published to every registered app server from the
// account's bare JID. See docs/push.md.
#pragma once

#include <memory>

#include "modules/module.h"
#include "modules/push/protocol.h"

namespace tern::modules {

std::unique_ptr<Module> start_push(ModuleContext& ctx);

}  // namespace tern::modules
