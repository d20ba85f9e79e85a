// Caps how fast one address may open connections, so that one host cannot
// exhaust the server's file descriptors, without refusing the many clients
// that share an address (an office or a carrier behind one NAT, everyone
// reconnecting after a restart). Each address has a token bucket: `burst`
// connections at once, refilled at `per_minute`. IPv6 peers are counted per
// /64, the block one subscriber usually gets. Loopback (by default) and the
// configured networks are never limited. Shared by all shards; one short
// lock per accept.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/asio.h"
#include "core/config.h"
#include "core/ip_network.h"

namespace tern::transport {

struct ConnectionLimits {
  double per_minute = 600;  // tokens added per minute
  double burst = 600;       // bucket size
  bool exempt_loopback = true;
  std::vector<core::IpNetwork> exempt;
  // A refused address is logged at most once per this interval.
  std::chrono::seconds log_interval{60};
  // Most addresses remembered; past it, the least recently seen are dropped.
  std::size_t max_tracked = 100000;
};

// The [limits] options; the networks were validated by `tern config check`.
ConnectionLimits connection_limits(const core::Config& config);

class ConnectionLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  struct Verdict {
    bool allowed = true;
    // Refused, and this refusal should be logged: the first for this address
    // in log_interval. `refused_unlogged` counts the refusals since the last
    // logged one (this one included).
    bool log = false;
    std::uint64_t refused_unlogged = 0;
    std::string group;  // refused: "192.0.2.7" or "2001:db8:1:2::/64"
  };

  explicit ConnectionLimiter(ConnectionLimits limits);

  // Counts a connection from `address` and says whether to accept it.
  Verdict admit(const core::IpBytes& address, Clock::time_point now = Clock::now());
  // admit() for an accepted socket's peer; logs a refusal once per interval.
  bool allow(const asio::ip::address& peer);

  std::size_t tracked() const;

 private:
  struct Bucket {
    double tokens = 0;
    Clock::time_point updated;
    std::optional<Clock::time_point> logged;  // the last logged refusal
    std::uint64_t refused_unlogged = 0;
  };
  struct Hash {
    std::size_t operator()(const core::IpBytes& b) const;
  };

  bool is_exempt(const core::IpBytes& address) const;
  void refill(Bucket& bucket, Clock::time_point now) const;
  void forget_old(Clock::time_point now);

  ConnectionLimits limits_;
  mutable std::mutex mutex_;
  std::unordered_map<core::IpBytes, Bucket, Hash> buckets_;
  Clock::time_point next_sweep_{};
};

}  // namespace tern::transport
