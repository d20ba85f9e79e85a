#include "core/config_checks.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <set>

#include "core/config.h"
#include "core/ip_network.h"

namespace tern::core {
namespace {

bool is_ascii_digit(char c) { return c >= '0' && c <= '9'; }
bool is_ascii_alnum(char c) {
  return is_ascii_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
// Space, tab, newline and the other C0 controls plus DEL: never part of an
// address, a domain or a JID.
bool is_space_or_control(char c) {
  auto u = static_cast<unsigned char>(c);
  return u <= 0x20 || u == 0x7f;
}

bool is_ipv4(std::string_view s) {
  std::array<unsigned char, 4> buf;
  return inet_pton(AF_INET, std::string(s).c_str(), buf.data()) == 1;
}
bool is_ipv6(std::string_view s) {
  std::array<unsigned char, 16> buf;
  return inet_pton(AF_INET6, std::string(s).c_str(), buf.data()) == 1;
}

}  // namespace

bool is_host_name(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  if (host.back() == '.') host.remove_suffix(1);  // fully qualified "example.org."
  std::size_t start = 0;
  while (true) {
    std::size_t dot = host.find('.', start);
    std::string_view label = host.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (label.empty() || label.size() > 63) return false;
    if (label.front() == '-' || label.back() == '-') return false;
    for (char c : label) {
      if (!is_ascii_alnum(c) && c != '-') return false;
    }
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

std::optional<ListenEndpoint> parse_listen_address(std::string_view text, std::string* why) {
  auto fail = [why](const char* reason) -> std::optional<ListenEndpoint> {
    if (why != nullptr) *why = reason;
    return std::nullopt;
  };
  std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return fail("expected \"address:port\"");
  std::string_view host = text.substr(0, colon);
  std::string_view port_text = text.substr(colon + 1);

  // Digits only: std::stoi would accept "+5222" or " 5222".
  if (port_text.empty() || port_text.size() > 5 ||
      !std::all_of(port_text.begin(), port_text.end(), is_ascii_digit)) {
    return fail("port must be between 1 and 65535");
  }
  int port = 0;
  for (char c : port_text) port = port * 10 + (c - '0');
  if (port < 1 || port > 65535) return fail("port must be between 1 and 65535");

  ListenEndpoint endpoint;
  endpoint.port = static_cast<std::uint16_t>(port);
  if (host.empty()) return fail("missing address before the port");
  if (host.front() == '[') {
    if (host.size() < 2 || host.back() != ']') return fail("unterminated '[' in IPv6 address");
    std::string_view inner = host.substr(1, host.size() - 2);
    if (!is_ipv6(inner)) return fail("not a valid IPv6 address");
    endpoint.host = std::string(inner);
    return endpoint;
  }
  if (host.find(':') != std::string_view::npos) {
    return fail("IPv6 addresses must be in brackets, as in \"[::1]:5222\"");
  }
  // All digits and dots: the user meant an IPv4 address, so do not let
  // "300.1.1.1" pass as a host name made of numeric labels.
  bool looks_numeric =
      std::all_of(host.begin(), host.end(), [](char c) { return is_ascii_digit(c) || c == '.'; });
  if (looks_numeric) {
    if (!is_ipv4(host)) return fail("not a valid IPv4 address");
  } else if (!is_host_name(host)) {
    return fail("not a valid host name");
  }
  endpoint.host = std::string(host);
  return endpoint;
}

std::string check_listen_address(std::string& value) {
  std::string why;
  if (parse_listen_address(value, &why)) return "";
  return "invalid address '" + value + "': " + why;
}

std::string check_domain(std::string& value) {
  std::string bad = "'" + value + "' is not a valid domain";
  // RFC 7622 §3.2: a domainpart is at most 1023 octets.
  if (value.empty() || value.size() > 1023) return bad;
  if (value.front() == '[') {
    // An IP literal domain, "[::1]".
    if (value.back() != ']' || !is_ipv6(std::string_view(value).substr(1, value.size() - 2))) {
      return bad;
    }
    return "";
  }
  for (char c : value) {
    if (c == '@' || c == '/' || c == ':' || is_space_or_control(c)) return bad;
  }
  if (value.front() == '.' || value.back() == '.' || value.find("..") != std::string::npos) {
    return bad;
  }
  // Non-ASCII octets (internationalised names) are left to stringprep at the
  // JID layer; only ASCII letters are folded here.
  std::transform(value.begin(), value.end(), value.begin(), [](char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  });
  return "";
}

std::string check_domain_list(const std::vector<std::string>& value) {
  if (value.empty()) return "at least one domain is required";
  return check_no_duplicates(value);
}

std::string check_no_duplicates(const std::vector<std::string>& value) {
  std::set<std::string_view> seen;
  for (const std::string& v : value) {
    if (!seen.insert(v).second) return "'" + v + "' is listed twice";
  }
  return "";
}

std::string check_log_level(std::string& value) {
  for (std::string_view level : {"trace", "debug", "info", "warn", "error"}) {
    if (value == level) return "";
  }
  return "'" + value + "' is not one of trace, debug, info, warn, error";
}

std::string check_storage_backend(std::string& value) {
  if (value == "sqlite") return "";
  return "backend '" + value + "' is not supported yet";
}

std::string check_bare_jid(std::string& value) {
  std::string bad = "'" + value + "' is not a bare JID (user@domain)";
  std::size_t at = value.find('@');
  if (at == std::string::npos || at == 0 || value.find('@', at + 1) != std::string::npos) {
    return bad;
  }
  if (value.find('/') != std::string::npos) return bad;
  for (char c : value) {
    if (is_space_or_control(c)) return bad;
  }
  std::string domain = value.substr(at + 1);
  if (!check_domain(domain).empty()) return bad;
  return "";
}

std::string check_module_name(std::string& value) {
  bool ok = !value.empty() && std::all_of(value.begin(), value.end(), [](char c) {
    return is_ascii_digit(c) || (c >= 'a' && c <= 'z') || c == '_';
  });
  if (ok) return "";
  return "'" + value + "' is not a module name (lowercase letters, digits, '_')";
}

std::string check_ip_network(std::string& value) {
  std::string why;
  if (!parse_ip_network(value, &why)) return "'" + value + "' is not a network: " + why;
  return "";
}

std::string check_s2s_host(std::string& value) {
  auto eq = value.find('=');
  if (eq == std::string::npos) return "expected \"domain=host:port\", got '" + value + "'";
  std::string domain = value.substr(0, eq);
  if (auto why = check_domain(domain); !why.empty()) return why;
  std::string why;
  if (!parse_listen_address(std::string_view(value).substr(eq + 1), &why))
    return "invalid address in '" + value + "': " + why;
  value = domain + value.substr(eq);
  return "";
}

}  // namespace tern::core
