// XEP-0012 last activity.
//
// To the server: its uptime in seconds. To an account's bare JID, for the
// account itself or a contact with a presence subscription to it ('from' or
// 'both' in the account's roster, XEP-0012 §3 and §8): 0 while a resource is
// available, else the seconds since the last session ended, with the status
// of the last unavailable presence as text. Anyone else gets <forbidden/>; a
// missing account, or an account that never logged out, gets
// <service-unavailable/> (as ejabberd and Prosody answer: XEP-0012 names no
// condition, and this one reveals nothing).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "modules/module.h"

namespace tern::modules {

std::unique_ptr<Module> start_last(ModuleContext& ctx);

namespace last {

inline constexpr const char* kNs = "jabber:iq:last";

// What is kept of an account's last logout (DocumentStore key "last").
struct LastLogout {
  std::int64_t at = 0;  // Unix seconds
  std::string status;   // of the last unavailable presence, may be empty
};
std::string encode(const LastLogout& l);
std::optional<LastLogout> decode(std::string_view stored);
// The <query xmlns='jabber:iq:last' seconds='…'>text</query> reply payload.
xml::Element query(std::int64_t seconds, std::string_view text = {});

}  // namespace last
}  // namespace tern::modules
