// IP addresses and networks in one form for both families: an IPv4 address
// is held as its IPv4-mapped IPv6 address (::ffff:a.b.c.d), so that a
// listener on [::] (which sees IPv4 peers that way) and one on 0.0.0.0 give
// the same answers, and a network is 16 bytes plus a prefix length.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tern::core {

using IpBytes = std::array<std::uint8_t, 16>;

// "192.0.2.7", "::ffff:192.0.2.7" or "2001:db8::1"; nullopt otherwise.
std::optional<IpBytes> parse_ip_address(std::string_view text);
// IPv4 bytes in network order as their IPv4-mapped IPv6 form.
IpBytes ipv4_mapped(const std::array<std::uint8_t, 4>& v4);
bool is_ipv4_mapped(const IpBytes& address);
// 127.0.0.0/8 or ::1.
bool is_loopback(const IpBytes& address);
// "192.0.2.7" for a mapped IPv4 address, "2001:db8::1" otherwise.
std::string ip_to_string(const IpBytes& address);

struct IpNetwork {
  IpBytes base{};       // host bits zeroed
  int prefix_bits = 0;  // 0..128, counted on the 16-byte form
  bool contains(const IpBytes& address) const;
  // "10.0.0.0/8", "2001:db8::/32": as it would be written in the config.
  std::string to_string() const;
};

// "10.0.0.0/8", "2001:db8::/32", or a single address ("192.0.2.7" is /32,
// "2001:db8::1" /128). Host bits below the prefix must be zero, so that a
// typo such as "10.1.2.3/8" is caught instead of silently widened. On
// failure returns nullopt and, if `why` is given, the reason.
std::optional<IpNetwork> parse_ip_network(std::string_view text, std::string* why = nullptr);

}  // namespace tern::core
