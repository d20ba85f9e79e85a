// XEP-0160 offline messages with XEP-0203 delay.
//
// A chat or normal message for an existing local account with no resource
// that takes it is stored, stamped with <delay/>, and handed to the next
// session that sends initial presence with a non-negative priority, oldest
// first. When the account holds modules.offline.max_messages messages, new
// ones bounce with <service-unavailable/> (RFC 6121 §8.5.2.1.1 allows it;
// it also keeps a full store indistinguishable from an offline account that
// stores nothing). A message for a missing account bounces the same way.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "modules/module.h"

namespace tern::modules {

std::unique_ptr<Module> start_offline(ModuleContext& ctx);

namespace offline {

inline constexpr const char* kHintsNs = "urn:xmpp:hints";
inline constexpr const char* kChatStatesNs = "http://jabber.org/protocol/chatstates";

// What to do with a message nobody online takes.
enum class Disposition {
  kNotOurs,  // not chat/normal, or a <no-store/> hint: the router's default applies
  kDiscard,  // nothing worth keeping (chat states only): dropped quietly
  kStore,
};
Disposition classify(const xml::Element& message);

}  // namespace offline
}  // namespace tern::modules
