// Where to connect for another XMPP server (RFC 6120 §3.2, XEP-0368): a
// static route from [s2s] hosts, else the SRV records of
// _xmpps-server._tcp (direct TLS) and _xmpp-server._tcp in RFC 2782 order,
// else the domain itself on 5269. Addresses come from c-ares, which reads
// the hosts file before DNS. Lookups block: run them on the blocking pool.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tern::stream {

struct SrvRecord {
  std::string target;
  std::uint16_t port = 0;
  std::uint16_t priority = 0;
  std::uint16_t weight = 0;
  bool direct_tls = false;  // from _xmpps-server
};

// One place to try, before its addresses are looked up.
struct S2STarget {
  std::string host;
  std::uint16_t port = 5269;
  bool direct_tls = false;
};

// One address to connect to.
struct S2SAddress {
  std::string ip;
  std::uint16_t port = 5269;
  bool direct_tls = false;
  std::string host;  // the name it came from, for logs
};

// RFC 2782: ascending priority; within a priority, a weighted random order
// (records of weight 0 rarely first). `random(n)` returns 0..n-1.
std::vector<SrvRecord> order_srv(std::vector<SrvRecord> records,
                                 const std::function<std::uint32_t(std::uint32_t)>& random);

// XEP-0368 §3: direct TLS and STARTTLS records are merged by priority and
// weight as one set; a single "." target means the service is not offered.
// Returns nullopt when the domain explicitly has no service.
std::optional<std::vector<S2STarget>> targets_from_srv(std::vector<SrvRecord> records,
    const std::function<std::uint32_t(std::uint32_t)>& random);

// Parses [s2s] hosts entries ("domain=host:port") into a table.
std::map<std::string, S2STarget> parse_static_routes(const std::vector<std::string>& entries);

struct ResolveResult {
  std::vector<S2SAddress> addresses;  // in the order to try
  std::string error;                  // why there are none
};

// Blocking: SRV then A/AAAA for `domain` (or its static route).
ResolveResult resolve_server(const std::string& domain,
                             const std::map<std::string, S2STarget>& static_routes);

}  // namespace tern::stream
