#include "stream/s2s_resolver.h"

#include <gtest/gtest.h>

namespace tern::stream {
namespace {

// A "random" source that always returns the same pick.
auto fixed(std::uint32_t v) {
  return [v](std::uint32_t n) { return std::min(v, n - 1); };
}

std::vector<std::string> targets(const std::vector<SrvRecord>& rs) {
  std::vector<std::string> out;
  for (const auto& r : rs) out.push_back(r.target);
  return out;
}

TEST(OrderSrv, LowerPriorityFirst) {
  std::vector<SrvRecord> in{{"c", 5269, 30, 0}, {"a", 5269, 10, 0}, {"b", 5269, 20, 0}};
  EXPECT_EQ(targets(order_srv(in, fixed(0))), (std::vector<std::string>{"a", "b", "c"}));
}

TEST(OrderSrv, WeightDecidesWithinAPriority) {
  // Running sums 0 (zero), 10 (x), 100 (y): a pick of 50 lands on y, then
  // the sums are 0, 10 and a pick of 50 (clamped to 10) lands on x.
  std::vector<SrvRecord> in{{"x", 1, 10, 10}, {"zero", 1, 10, 0}, {"y", 1, 10, 90}};
  EXPECT_EQ(targets(order_srv(in, fixed(50))), (std::vector<std::string>{"y", "x", "zero"}));
  // A pick of 0 takes the weight-0 record first (RFC 2782 allows it, rarely).
  EXPECT_EQ(targets(order_srv(in, fixed(0))).front(), "zero");
}

TEST(OrderSrv, HeavierRecordWinsMoreOften) {
  std::vector<SrvRecord> in{{"light", 1, 10, 1}, {"heavy", 1, 10, 99}};
  std::uint32_t seed = 1;
  auto lcg = [&seed](std::uint32_t n) {
    seed = seed * 1103515245u + 12345u;
    return (seed >> 8) % n;
  };
  int heavy_first = 0;
  for (int i = 0; i < 1000; ++i) heavy_first += order_srv(in, lcg).front().target == "heavy";
  EXPECT_GT(heavy_first, 900);
}

TEST(TargetsFromSrv, DirectTlsAndStarttlsMergedByPriority) {
  std::vector<SrvRecord> in{{"plain.example.", 5269, 20, 0, false}, {"tls.example.", 5270, 10, 0, true}};
  auto t = targets_from_srv(in, fixed(0));
  ASSERT_TRUE(t);
  ASSERT_EQ(t->size(), 2u);
  EXPECT_EQ((*t)[0].host, "tls.example");
  EXPECT_TRUE((*t)[0].direct_tls);
  EXPECT_EQ((*t)[0].port, 5270);
  EXPECT_EQ((*t)[1].host, "plain.example");
  EXPECT_FALSE((*t)[1].direct_tls);
}

TEST(TargetsFromSrv, RootTargetMeansNoService) {
  EXPECT_FALSE(targets_from_srv({{".", 0, 0, 0}}, fixed(0)));
  auto none = targets_from_srv({}, fixed(0));
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST(StaticRoutes, ParsesDomainHostPort) {
  auto routes = parse_static_routes({"peer.example=127.0.0.1:5270", "v6.example=[::1]:5269", "bad"});
  ASSERT_EQ(routes.size(), 2u);
  EXPECT_EQ(routes["peer.example"].host, "127.0.0.1");
  EXPECT_EQ(routes["peer.example"].port, 5270);
  EXPECT_EQ(routes["v6.example"].host, "::1");
}

TEST(ResolveServer, StaticRouteNeedsNoDns) {
  auto r = resolve_server("peer.example", parse_static_routes({"peer.example=127.0.0.1:5270"}));
  ASSERT_EQ(r.addresses.size(), 1u);
  EXPECT_EQ(r.addresses[0].ip, "127.0.0.1");
  EXPECT_EQ(r.addresses[0].port, 5270);
}

TEST(ResolveServer, HostsFileNameResolves) {
  // "localhost" is in every hosts file; no SRV records exist for it.
  auto r = resolve_server("localhost", {});
  ASSERT_FALSE(r.addresses.empty()) << r.error;
  EXPECT_EQ(r.addresses[0].port, 5269);
}

TEST(ResolveServer, UnknownDomainFails) {
  auto r = resolve_server("no-such-host.invalid", {});
  EXPECT_TRUE(r.addresses.empty());
  EXPECT_FALSE(r.error.empty());
}

}  // namespace
}  // namespace tern::stream
