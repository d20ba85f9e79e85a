#include "core/ip_network.h"

#include <gtest/gtest.h>

namespace tern::core {
namespace {

IpBytes ip(const char* text) {
  auto bytes = parse_ip_address(text);
  EXPECT_TRUE(bytes) << text;
  return bytes.value_or(IpBytes{});
}

TEST(IpNetwork, Ipv4AddressesAreHeldInTheirMappedForm) {
  EXPECT_EQ(ip("192.0.2.7"), ip("::ffff:192.0.2.7"));
  EXPECT_TRUE(is_ipv4_mapped(ip("192.0.2.7")));
  EXPECT_FALSE(is_ipv4_mapped(ip("2001:db8::1")));
  EXPECT_EQ(ip_to_string(ip("::ffff:192.0.2.7")), "192.0.2.7");
  EXPECT_EQ(ip_to_string(ip("2001:DB8:0::1")), "2001:db8::1");
  EXPECT_FALSE(parse_ip_address("192.0.2"));
  EXPECT_FALSE(parse_ip_address("example.org"));
  EXPECT_FALSE(parse_ip_address(""));
}

TEST(IpNetwork, LoopbackIsAll127AndColonColonOne) {
  EXPECT_TRUE(is_loopback(ip("127.0.0.1")));
  EXPECT_TRUE(is_loopback(ip("127.255.0.9")));
  EXPECT_TRUE(is_loopback(ip("::1")));
  EXPECT_TRUE(is_loopback(ip("::ffff:127.0.0.1")));
  EXPECT_FALSE(is_loopback(ip("128.0.0.1")));
  EXPECT_FALSE(is_loopback(ip("::2")));
  EXPECT_FALSE(is_loopback(ip("::")));
}

TEST(IpNetwork, NetworksOfBothFamiliesContainTheirAddressesOnly) {
  auto ten = parse_ip_network("10.0.0.0/8");
  ASSERT_TRUE(ten);
  EXPECT_TRUE(ten->contains(ip("10.255.1.2")));
  EXPECT_TRUE(ten->contains(ip("::ffff:10.0.0.1")));
  EXPECT_FALSE(ten->contains(ip("11.0.0.0")));
  EXPECT_FALSE(ten->contains(ip("::a00:1"))) << "an IPv4-compatible address is IPv6";
  EXPECT_EQ(ten->to_string(), "10.0.0.0/8");

  auto odd = parse_ip_network("192.0.2.128/25");
  ASSERT_TRUE(odd);
  EXPECT_TRUE(odd->contains(ip("192.0.2.200")));
  EXPECT_FALSE(odd->contains(ip("192.0.2.127")));

  auto v6 = parse_ip_network("2001:db8:aa00::/40");
  ASSERT_TRUE(v6);
  EXPECT_TRUE(v6->contains(ip("2001:db8:aaff:ffff::1")));
  EXPECT_FALSE(v6->contains(ip("2001:db8:ab00::1")));
  EXPECT_EQ(v6->to_string(), "2001:db8:aa00::/40");

  auto one = parse_ip_network("198.51.100.7");
  ASSERT_TRUE(one);
  EXPECT_EQ(one->to_string(), "198.51.100.7/32");
  EXPECT_TRUE(one->contains(ip("198.51.100.7")));
  EXPECT_FALSE(one->contains(ip("198.51.100.6")));

  auto all = parse_ip_network("0.0.0.0/0");
  ASSERT_TRUE(all);
  EXPECT_TRUE(all->contains(ip("203.0.113.1")));
  EXPECT_FALSE(all->contains(ip("2001:db8::1"))) << "IPv4 /0 is every IPv4 address only";
  auto every6 = parse_ip_network("::/0");
  ASSERT_TRUE(every6);
  EXPECT_TRUE(every6->contains(ip("2001:db8::1")));
}

TEST(IpNetwork, BadNetworksSayWhy) {
  std::string why;
  EXPECT_FALSE(parse_ip_network("10.0.0.1/8", &why));
  EXPECT_EQ(why, "address has bits set past the prefix length");
  EXPECT_FALSE(parse_ip_network("10.0.0.0/33", &why));
  EXPECT_EQ(why, "prefix length must be 0..32");
  EXPECT_FALSE(parse_ip_network("10.0.0.0/", &why));
  EXPECT_EQ(why, "prefix length must be 0..32");
  EXPECT_FALSE(parse_ip_network("10.0.0.0/+8", &why));
  EXPECT_FALSE(parse_ip_network("::/129", &why));
  EXPECT_EQ(why, "prefix length must be 0..128");
  EXPECT_FALSE(parse_ip_network("2001:db8::/0032", &why));
  EXPECT_FALSE(parse_ip_network("lan/8", &why));
  EXPECT_EQ(why, "not an IPv4 or IPv6 address");
}

}  // namespace
}  // namespace tern::core
