// XEP-0092 software version: the server tells its name, version and
// (unless modules.version.show_os = false) operating system.
#pragma once

#include <string>
#include <string_view>

#include "modules/module.h"
#include "xml/element.h"

namespace tern::modules {

std::unique_ptr<Module> start_version(ModuleContext& ctx);

namespace version {

inline constexpr std::string_view kNs = "jabber:iq:version";
inline constexpr std::string_view kName = "Tern";
inline constexpr std::string_view kVersion = "0.1.0";  // bumped with each release

// <query xmlns='jabber:iq:version'><name/><version/>[<os/>]</query>; no <os/>
// when `os` is empty.
xml::Element version_result(std::string_view name, std::string_view version, std::string_view os);
// The kernel's name (uname's sysname, e.g. "Linux"); empty if unknown.
std::string os_name();

}  // namespace version
}  // namespace tern::modules
