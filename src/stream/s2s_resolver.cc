#include "stream/s2s_resolver.h"

#include <ares.h>
#include <ares_nameser.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>

#include <algorithm>
#include <mutex>
#include <random>

#include "core/config.h"

namespace tern::stream {
namespace {

constexpr std::uint16_t kDefaultPort = 5269;
constexpr int kLookupTimeoutMs = 3000;
constexpr int kLookupTries = 2;

// Takes records of one priority in RFC 2782's weighted random order.
void append_weighted(std::vector<SrvRecord>& group, std::vector<SrvRecord>& out,
                     const std::function<std::uint32_t(std::uint32_t)>& random) {
  // Weight-0 records first, as the RFC says, so that they are picked only
  // when the running sum lands on them (rarely).
  std::stable_partition(group.begin(), group.end(), [](const SrvRecord& r) { return r.weight == 0; });
  while (!group.empty()) {
    std::uint32_t total = 0;
    for (const auto& r : group) total += r.weight;
    std::uint32_t pick = random(total + 1);  // 0..total
    std::uint32_t sum = 0;
    std::size_t chosen = group.size() - 1;
    for (std::size_t i = 0; i < group.size(); ++i) {
      sum += group[i].weight;
      if (sum >= pick) {
        chosen = i;
        break;
      }
    }
    out.push_back(std::move(group[chosen]));
    group.erase(group.begin() + static_cast<std::ptrdiff_t>(chosen));
  }
}

bool is_root_target(const std::string& target) { return target.empty() || target == "."; }

// One c-ares channel per lookup: lookups are rare (one per new link) and a
// channel is not thread-safe across the pool's threads.
class Channel {
 public:
  Channel() {
    static std::once_flag once;
    std::call_once(once, [] { ares_library_init(ARES_LIB_INIT_ALL); });
    ares_options opts{};
    opts.timeout = kLookupTimeoutMs;
    opts.tries = kLookupTries;
    ok_ = ares_init_options(&channel_, &opts, ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES) == ARES_SUCCESS;
  }
  ~Channel() {
    if (ok_) ares_destroy(channel_);
  }
  bool ok() const { return ok_; }
  ares_channel get() { return channel_; }

  // Runs the channel until every query has called back.
  void wait() {
    for (;;) {
      ares_socket_t socks[ARES_GETSOCK_MAXNUM];
      int bits = ares_getsock(channel_, socks, ARES_GETSOCK_MAXNUM);
      std::vector<pollfd> fds;
      for (int i = 0; i < ARES_GETSOCK_MAXNUM; ++i) {
        short ev = 0;
        if (ARES_GETSOCK_READABLE(bits, i)) ev |= POLLIN;
        if (ARES_GETSOCK_WRITABLE(bits, i)) ev |= POLLOUT;
        if (ev) fds.push_back({socks[i], ev, 0});
      }
      if (fds.empty()) return;
      timeval tv{};
      timeval* tvp = ares_timeout(channel_, nullptr, &tv);
      int ms = tvp ? static_cast<int>(tvp->tv_sec * 1000 + tvp->tv_usec / 1000) : 1000;
      int n = ::poll(fds.data(), fds.size(), ms);
      if (n <= 0) {
        ares_process_fd(channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);  // timeouts
        continue;
      }
      for (const auto& p : fds) {
        ares_process_fd(channel_, (p.revents & (POLLIN | POLLERR | POLLHUP)) ? p.fd : ARES_SOCKET_BAD,
                        (p.revents & POLLOUT) ? p.fd : ARES_SOCKET_BAD);
      }
    }
  }

 private:
  ares_channel channel_ = nullptr;
  bool ok_ = false;
};

struct SrvQuery {
  bool direct_tls;
  std::vector<SrvRecord>* out;
  bool answered = false;  // the name exists and answered (maybe with no records)
};

void on_srv(void* arg, int status, int, unsigned char* abuf, int alen) {
  auto* q = static_cast<SrvQuery*>(arg);
  if (status != ARES_SUCCESS) return;
  ares_srv_reply* reply = nullptr;
  if (ares_parse_srv_reply(abuf, alen, &reply) != ARES_SUCCESS) return;
  q->answered = true;
  for (auto* r = reply; r; r = r->next)
    q->out->push_back({r->host ? r->host : "", r->port, r->priority, r->weight, q->direct_tls});
  ares_free_data(reply);
}

struct AddrQuery {
  std::vector<std::string>* out;
  int status = ARES_SUCCESS;
};

void on_addrinfo(void* arg, int status, int, ares_addrinfo* res) {
  auto* q = static_cast<AddrQuery*>(arg);
  q->status = status;
  if (status != ARES_SUCCESS || !res) return;
  for (auto* n = res->nodes; n; n = n->ai_next) {
    char text[INET6_ADDRSTRLEN] = {};
    if (n->ai_family == AF_INET) {
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(n->ai_addr)->sin_addr, text, sizeof text);
    } else if (n->ai_family == AF_INET6) {
      inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(n->ai_addr)->sin6_addr, text, sizeof text);
    } else {
      continue;
    }
    if (std::find(q->out->begin(), q->out->end(), text) == q->out->end()) q->out->push_back(text);
  }
  ares_freeaddrinfo(res);
}

std::vector<std::string> lookup_addresses(Channel& ch, const std::string& host, std::string& error) {
  std::vector<std::string> ips;
  AddrQuery q{&ips};
  ares_addrinfo_hints hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  ares_getaddrinfo(ch.get(), host.c_str(), nullptr, &hints, on_addrinfo, &q);
  ch.wait();
  if (ips.empty()) error = host + ": " + ares_strerror(q.status == ARES_SUCCESS ? ARES_ENODATA : q.status);
  return ips;
}

}  // namespace

std::vector<SrvRecord> order_srv(std::vector<SrvRecord> records,
                                 const std::function<std::uint32_t(std::uint32_t)>& random) {
  std::stable_sort(records.begin(), records.end(),
                   [](const SrvRecord& a, const SrvRecord& b) { return a.priority < b.priority; });
  std::vector<SrvRecord> out;
  out.reserve(records.size());
  std::size_t i = 0;
  while (i < records.size()) {
    std::size_t j = i;
    while (j < records.size() && records[j].priority == records[i].priority) ++j;
    std::vector<SrvRecord> group(std::make_move_iterator(records.begin() + static_cast<std::ptrdiff_t>(i)),
                                 std::make_move_iterator(records.begin() + static_cast<std::ptrdiff_t>(j)));
    append_weighted(group, out, random);
    i = j;
  }
  return out;
}

std::optional<std::vector<S2STarget>> targets_from_srv(
    std::vector<SrvRecord> records, const std::function<std::uint32_t(std::uint32_t)>& random) {
  // RFC 2782: a single record with target "." means "no service here".
  std::size_t root = static_cast<std::size_t>(
      std::count_if(records.begin(), records.end(), [](const SrvRecord& r) { return is_root_target(r.target); }));
  if (!records.empty() && root == records.size()) return std::nullopt;
  std::erase_if(records, [](const SrvRecord& r) { return is_root_target(r.target); });
  std::vector<S2STarget> out;
  for (auto& r : order_srv(std::move(records), random)) {
    std::string host = r.target;
    if (!host.empty() && host.back() == '.') host.pop_back();
    out.push_back({std::move(host), r.port, r.direct_tls});
  }
  return out;
}

std::map<std::string, S2STarget> parse_static_routes(const std::vector<std::string>& entries) {
  std::map<std::string, S2STarget> out;
  for (const auto& e : entries) {
    auto eq = e.find('=');
    if (eq == std::string::npos) continue;
    auto ep = core::parse_listen_address(std::string_view(e).substr(eq + 1));
    if (!ep) continue;
    out[e.substr(0, eq)] = S2STarget{ep->host, ep->port, false};
  }
  return out;
}

ResolveResult resolve_server(const std::string& domain,
                             const std::map<std::string, S2STarget>& static_routes) {
  ResolveResult result;
  Channel ch;
  if (!ch.ok()) {
    result.error = "cannot start the DNS resolver";
    return result;
  }
  std::vector<S2STarget> targets;
  if (auto it = static_routes.find(domain); it != static_routes.end()) {
    targets.push_back(it->second);
  } else {
    std::vector<SrvRecord> records;
    SrvQuery tls{true, &records}, plain{false, &records};
    ares_query(ch.get(), ("_xmpps-server._tcp." + domain).c_str(), C_IN, T_SRV, on_srv, &tls);
    ares_query(ch.get(), ("_xmpp-server._tcp." + domain).c_str(), C_IN, T_SRV, on_srv, &plain);
    ch.wait();
    thread_local std::mt19937 rng{std::random_device{}()};
    auto random = [](std::uint32_t n) { return std::uniform_int_distribution<std::uint32_t>(0, n - 1)(rng); };
    auto from_srv = targets_from_srv(std::move(records), random);
    if (!from_srv) {
      result.error = domain + " offers no XMPP server service (SRV \".\")";
      return result;
    }
    targets = std::move(*from_srv);
    // RFC 6120 §3.2.2: no SRV records at all → the domain itself on 5269.
    if (targets.empty()) targets.push_back({domain, kDefaultPort, false});
  }
  for (const auto& t : targets) {
    std::string error;
    for (auto& ip : lookup_addresses(ch, t.host, error))
      result.addresses.push_back({std::move(ip), t.port, t.direct_tls, t.host});
    if (!error.empty() && result.error.empty()) result.error = error;
  }
  if (!result.addresses.empty()) result.error.clear();
  return result;
}

}  // namespace tern::stream
