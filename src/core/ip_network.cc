#include "core/ip_network.h"

#include <arpa/inet.h>

#include <algorithm>

namespace tern::core {
namespace {

// The first 12 bytes of every IPv4-mapped address: ::ffff:0:0/96.
constexpr std::array<std::uint8_t, 12> kMappedPrefix{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
constexpr int kMappedPrefixBits = 96;

bool has_only_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Zeroes every bit of `bytes` past the first `bits`.
IpBytes masked(IpBytes bytes, int bits) {
  for (int i = 0; i < 16; ++i) {
    int keep = std::clamp(bits - 8 * i, 0, 8);
    bytes[i] &= static_cast<std::uint8_t>(0xff00u >> keep);
  }
  return bytes;
}

}  // namespace

IpBytes ipv4_mapped(const std::array<std::uint8_t, 4>& v4) {
  IpBytes out{};
  std::copy(kMappedPrefix.begin(), kMappedPrefix.end(), out.begin());
  std::copy(v4.begin(), v4.end(), out.begin() + 12);
  return out;
}

bool is_ipv4_mapped(const IpBytes& address) {
  return std::equal(kMappedPrefix.begin(), kMappedPrefix.end(), address.begin());
}

std::optional<IpBytes> parse_ip_address(std::string_view text) {
  const std::string s(text);
  std::array<std::uint8_t, 4> v4;
  if (inet_pton(AF_INET, s.c_str(), v4.data()) == 1) return ipv4_mapped(v4);
  IpBytes v6;
  if (inet_pton(AF_INET6, s.c_str(), v6.data()) == 1) return v6;
  return std::nullopt;
}

bool is_loopback(const IpBytes& address) {
  if (is_ipv4_mapped(address)) return address[12] == 127;
  IpBytes one{};
  one[15] = 1;
  return address == one;
}

std::string ip_to_string(const IpBytes& address) {
  char buf[INET6_ADDRSTRLEN];
  if (is_ipv4_mapped(address)) {
    inet_ntop(AF_INET, address.data() + 12, buf, sizeof buf);
  } else {
    inet_ntop(AF_INET6, address.data(), buf, sizeof buf);
  }
  return buf;
}

bool IpNetwork::contains(const IpBytes& address) const {
  return masked(address, prefix_bits) == base;
}

std::string IpNetwork::to_string() const {
  bool v4 = is_ipv4_mapped(base) && prefix_bits >= kMappedPrefixBits;
  int shown = v4 ? prefix_bits - kMappedPrefixBits : prefix_bits;
  return ip_to_string(base) + "/" + std::to_string(shown);
}

std::optional<IpNetwork> parse_ip_network(std::string_view text, std::string* why) {
  auto fail = [why](const char* reason) -> std::optional<IpNetwork> {
    if (why != nullptr) *why = reason;
    return std::nullopt;
  };
  std::size_t slash = text.find('/');
  auto address = parse_ip_address(text.substr(0, slash));
  if (!address) return fail("not an IPv4 or IPv6 address");
  const bool v4 = is_ipv4_mapped(*address) && text.substr(0, slash).find(':') == std::string_view::npos;
  const int family_bits = v4 ? 32 : 128;
  int bits = family_bits;
  if (slash != std::string_view::npos) {
    std::string_view length = text.substr(slash + 1);
    if (!has_only_digits(length) || length.size() > 3)
      return fail(v4 ? "prefix length must be 0..32" : "prefix length must be 0..128");
    bits = std::stoi(std::string(length));
    if (bits > family_bits)
      return fail(v4 ? "prefix length must be 0..32" : "prefix length must be 0..128");
  }
  IpNetwork network;
  network.prefix_bits = v4 ? bits + kMappedPrefixBits : bits;
  network.base = masked(*address, network.prefix_bits);
  if (network.base != *address) return fail("address has bits set past the prefix length");
  return network;
}

}  // namespace tern::core
