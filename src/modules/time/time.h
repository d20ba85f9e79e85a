// XEP-0202 entity time: the server's clock in UTC and its zone offset.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "modules/module.h"
#include "xml/element.h"

namespace tern::modules {

std::unique_ptr<Module> start_time(ModuleContext& ctx);

namespace entity_time {

inline constexpr std::string_view kNs = "urn:xmpp:time";

// An offset from UTC as XEP-0082 writes it: "+02:00", "-05:30", "+00:00".
std::string format_tzo(long offset_seconds);
// The server's local offset from UTC at `t` (seconds east of Greenwich).
long local_offset(std::chrono::system_clock::time_point t);
// <time xmlns='urn:xmpp:time'><tzo/><utc/></time>
xml::Element time_result(std::chrono::system_clock::time_point t, long offset_seconds);

}  // namespace entity_time
}  // namespace tern::modules
