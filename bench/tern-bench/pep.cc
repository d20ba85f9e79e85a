// pep: --users online sessions publish to one PEP node of their own
// ("urn:tern:bench") at --rate publishes/s in total; every session's
// presence carries entity capabilities (XEP-0115) with "urn:tern:bench+notify"
// and answers the server's disco#info query for them, so the server
// notifies each publisher's contacts (and the publisher's own session). Every
// event notification a session receives from another account is a
// delivery: the figure to set beside the presence scenario's.
//
// The rosters are the caller's business, as for presence (each user needs
// --contacts mutually subscribed contacts, e.g. bench/roster_provision.py).
#include <openssl/evp.h>

#include "tern-bench/scenarios.h"

namespace tern::bench {
namespace {

constexpr const char* kNode = "urn:tern:bench";
constexpr const char* kCapsNode = "https://tern.example/bench";
constexpr const char* kFeatures[] = {"http://jabber.org/protocol/caps",
                                     "http://jabber.org/protocol/disco#info",
                                     "urn:tern:bench+notify"};  // sorted

std::string caps_ver() {
  std::string s = "client/bot//tern-bench<";
  for (const char* f : kFeatures) s += std::string(f) + "<";
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(s.data(), s.size(), md, &len, EVP_sha1(), nullptr);
  std::string out(4 * ((len + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), md, static_cast<int>(len));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

// Disco#info queries are answered by the connection (Options::disco_features).
class PepHandler : public SessionHandler {
 public:
  void on_stanza(Worker& w, Connection& c, const xml::Element& el) override {
    if (el.name() != "message" || !el.child("event", "http://jabber.org/protocol/pubsub#event")) {
      if (el.attr_or("type") == "error") w.stats.errors.add();
      else w.stats.received_other.add();
      return;
    }
    std::string_view from = el.attr_or("from");
    std::string_view own = c.jid();
    if (from == own.substr(0, own.find('/'))) {
      w.stats.received_other.add();  // our own publish, to our own session
      return;
    }
    w.stats.received.add();
  }
};

awaitable<void> publish_pacer(Worker& w, std::vector<Connection*>& mine, double rate,
                              std::uint64_t limit) {
  asio::steady_timer timer(w.ioc);
  auto start = Clock::now();
  std::uint64_t sent = 0;
  std::size_t next = 0;
  while (w.sending && !mine.empty()) {
    timer.expires_after(std::chrono::milliseconds(1));
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(use_awaitable, ec));
    if (!w.sending) break;
    double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    auto due = static_cast<std::uint64_t>(elapsed * rate);
    for (; sent < due && (!limit || sent < limit); ++sent) {
      std::size_t i = next++ % mine.size();
      if (!mine[i]->is_open()) continue;
      mine[i]->send(std::string("<iq type='set' id='pub") + std::to_string(sent) +
                    "'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='" + kNode +
                    "'><item id='current'><tune xmlns='http://jabber.org/protocol/tune'><title>" +
                    std::to_string(sent) + "</title></tune></item></publish></pubsub></iq>");
      w.stats.sent.add();
    }
  }
}

}  // namespace

std::vector<std::string> pep_features() { return {std::begin(kFeatures), std::end(kFeatures)}; }

std::string pep_initial_presence() {
  return std::string("<presence><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='") +
         kCapsNode + "' ver='" + caps_ver() + "'/></presence>";
}

int run_pep(const Env& env) {
  const Options& o = env.opt;
  PepHandler handler;
  std::vector<std::vector<Connection*>> mine;
  Runner runner(env);
  auto threads = static_cast<std::int64_t>(runner.workers().size());
  std::int64_t n = o.users > 0 ? o.users : 100;
  double rate = o.rate > 0 ? o.rate : double(n);  // default: one change per user per second
  std::uint64_t limit = o.count ? static_cast<std::uint64_t>((o.count + threads - 1) / threads) : 0;
  mine.resize(static_cast<std::size_t>(threads));

  double cpu0 = process_cpu_seconds();
  auto t0 = Clock::now();
  runner.start();
  // open_sessions() cycles users modulo --users: here the session count is
  // the user count, so each session is its own account.
  runner.open_sessions(n, handler);
  bool complete = runner.wait_online(n);
  double connect_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  runner.on_each([](Worker&) {});
  for (std::int64_t i = 0; i < n; ++i)
    if (runner.session(i).is_open())
      mine[static_cast<std::size_t>(i % threads)].push_back(&runner.session(i));
  // Initial presences and probes settle before measuring: a slow server is
  // still delivering them well after the last login. Wait until none has
  // arrived for half a second (at most 10 s).
  std::uint64_t seen = runner.live_totals().received;
  auto quiet_since = Clock::now();
  runner.sleep_until(Clock::now() + std::chrono::seconds(10), [&] {
    std::uint64_t now_seen = runner.live_totals().received;
    if (now_seen != seen) {
      seen = now_seen;
      quiet_since = Clock::now();
    }
    return Clock::now() - quiet_since >= std::chrono::milliseconds(500);
  });

  Totals before = runner.live_totals();
  double cpu_start = process_cpu_seconds();
  double server_cpu_start = read_cpu_seconds(o.server_pid);
  auto start = Clock::now();
  runner.on_each([&](Worker& w) {
    w.sending = true;
    auto& list = mine[static_cast<std::size_t>(w.id)];
    spawn(w, publish_pacer(w, list, rate * double(list.size()) / double(n), limit));
  });
  auto end = start + std::chrono::duration_cast<Clock::duration>(
                         std::chrono::duration<double>(o.duration));
  auto last = Clock::now();
  if (complete)
    complete = runner.sleep_until(end, [&] {
      Totals t = runner.live_totals();
      if (Clock::now() - last >= std::chrono::seconds(1)) {
        last = Clock::now();
        runner.progress("publishes %llu, notifications received %llu", (unsigned long long)t.sent,
                        (unsigned long long)(t.received - before.received));
      }
      return o.count && t.sent >= static_cast<std::uint64_t>(o.count);
    });
  runner.on_each([](Worker& w) { w.sending = false; });
  double window = std::chrono::duration<double>(Clock::now() - start).count();
  double cpu_window = process_cpu_seconds() - cpu_start;
  double server_cpu_window = read_cpu_seconds(o.server_pid) - server_cpu_start;
  Totals at_end = runner.live_totals();
  runner.stop();
  double wall = std::chrono::duration<double>(Clock::now() - t0).count();
  Totals t = runner.totals();
  std::uint64_t changes = at_end.sent - before.sent;
  std::uint64_t deliveries = at_end.received - before.received;

  Report r("pep");
  r.add_int("users", n, "users");
  r.add_int("online", static_cast<std::int64_t>(t.online), "online");
  r.add("connect_seconds", connect_seconds, "time to connect all", "s");
  r.add("offered_rate", rate, "publishes offered", "/s");
  r.add("duration_seconds", window, "measured", "s");
  r.add_int("publishes", static_cast<std::int64_t>(changes), "publishes sent");
  r.add_int("deliveries", static_cast<std::int64_t>(deliveries), "notifications received");
  r.add("deliveries_per_second", window > 0 ? double(deliveries) / window : 0,
        "notifications received", "/s");
  if (o.contacts > 0)
    r.add_int("expected_deliveries", static_cast<std::int64_t>(changes) * o.contacts,
              "expected (publishes x contacts)");
  r.add_int("errors", static_cast<std::int64_t>(t.errors), "error replies");
  r.add("cpu_window_seconds", cpu_window, "generator CPU in window", "s");
  if (o.server_pid > 0) {
    r.add("server_cpu_window_seconds", server_cpu_window, "server CPU in window", "s");
    r.add("server_cpu_us_per_delivery",
          deliveries ? server_cpu_window * 1e6 / double(deliveries) : 0,
          "server CPU per delivery", "us");
  }
  r.add_int("failed", static_cast<std::int64_t>(t.failed), "sessions failed");
  r.add_int("dropped", static_cast<std::int64_t>(t.dropped), "sessions dropped");
  add_common_rows(r, runner, t, process_cpu_seconds() - cpu0, wall);
  r.print();
  return complete && t.failed == 0 ? 0 : 1;
}

}  // namespace tern::bench
