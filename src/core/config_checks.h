// Semantic checks on option values, beyond their TOML type. Each returns ""
// when the value is acceptable, else a reason that follows "<option>: " in the
// diagnostic. Kept apart from the TOML walker so that they are plain string
// functions, cheap to compile and to test.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tern::core {

// A plausible XMPP domainpart; lowercases ASCII letters in place.
std::string check_domain(std::string& value);
// At least one domain, none twice.
std::string check_domain_list(const std::vector<std::string>& value);
// "address:port", see parse_listen_address.
std::string check_listen_address(std::string& value);
// No entry listed twice (module names, listen addresses, admins).
std::string check_no_duplicates(const std::vector<std::string>& value);
// trace|debug|info|warn|error.
std::string check_log_level(std::string& value);
// Storage drivers this build provides.
std::string check_storage_backend(std::string& value);
// "user@domain", no resource.
std::string check_bare_jid(std::string& value);
// Module names as used in [modules.<name>]: lowercase letters, digits, '_'.
std::string check_module_name(std::string& value);

// "10.0.0.0/8", "2001:db8::/32" or a single address; see parse_ip_network.
std::string check_ip_network(std::string& value);
// "domain=host:port" (an [s2s] hosts entry).
std::string check_s2s_host(std::string& value);

// Whether `host` is a syntactically valid DNS host name (RFC 1123 labels).
bool is_host_name(std::string_view host);

}  // namespace tern::core
