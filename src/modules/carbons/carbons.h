// XEP-0280 Message Carbons: every resource of an account that asks for it
// sees the account's whole conversation, what its other resources sent and
// received, honouring <private/> and the XEP-0334 hint <no-copy/>.
#pragma once

#include <string_view>

#include "modules/module.h"

namespace tern::modules {
namespace carbons {

inline constexpr std::string_view kNs = "urn:xmpp:carbons:2";
inline constexpr std::string_view kForwardNs = "urn:xmpp:forward:0";

// Is this message one of a conversation (XEP-0280 §6)? Chat messages, and
// normal ones with a body; never groupchat, nothing from or through a MUC
// room, nothing marked private or no-copy, never a carbon itself.
bool eligible(const xml::Element& message);

enum class Direction { kSent, kReceived };

// The copy for `resource` (a full JID of `account`): the original wrapped in
// <sent/> or <received/> and <forwarded/>, from the account's bare JID.
xml::Element wrap(Direction direction, const xml::Element& original, const xmpp::Jid& account,
                  const xmpp::Jid& resource);

}  // namespace carbons

std::unique_ptr<Module> start_carbons(ModuleContext& ctx);

}  // namespace tern::modules
