#include "tern-bench/options.h"

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string_view>

namespace tern::bench {
namespace {

constexpr const char* kUsage = R"(usage: tern-bench SCENARIO [options]

Scenarios:
  hold       connect --sessions sessions, hold them idle --hold-seconds, report
             the time to connect them and (with --server-pid) server KiB/session;
             with --checkpoints A,B,C it connects A, settles, samples the
             server RSS, goes on to B, and so on (C sessions in all)
  login      logins per second with --concurrency parallel loops for --duration
             (connect, stream, TLS, SASL, bind, </stream:stream>)
  chat       --pairs pairs of users (2k, 2k+1) exchange messages to full JIDs:
             at saturation (--window in flight per sender) or at --rate msgs/s;
             reports delivered msgs/s, latency percentiles, losses
  presence   --users users change presence at --rate changes/s (default 100);
             counts presence stanzas received per second. Rosters must be
             provisioned beforehand (each user with --contacts online contacts);
             without rosters nothing is delivered and the figure is 0.
  pep        --users users publish to a PEP node at --rate publishes/s; their
             caps say +notify, so each publish notifies the publisher's contacts;
             counts notifications received per second (rosters as for presence).
  reconnect  --sessions sessions log in, settle, then every connection is cut
             at once (no stream close, no TLS close_notify: a network outage)
             and every client reconnects at the same moment (with --tls-resume,
             resuming its TLS session); reports the time until each and all
             are back, failures, server CPU per reconnect
  muc        --rooms rooms of --occupants occupants (XEP-0045; the first
             occupant creates the room and unlocks it as an instant room),
             then groupchat messages at --rate msgs/s in total; reports
             messages sent/s, deliveries/s, latency, server CPU per delivery

Connection:
  --host H (127.0.0.1)  --port P (5222)  --domain D (localhost)
  --user-pattern P (bench{})  {} is replaced by the user index
  --first-user N (0)    index of the first account
  --password S (bench)  --resource R (tb)
  --transport T         tcp (default): an XMPP stream on TCP (RFC 6120);
                        ws: XMPP over WebSocket (RFC 7395) at --ws-path on the
                        server's HTTP listener (--port is that listener's),
                        plain ws:// (no TLS: use it on loopback, which Tern
                        trusts with SASL over plain HTTP by default)
  --ws-path P (/xmpp-websocket)
  --tls | --no-tls      STARTTLS, no certificate verification (default --tls;
                        tcp only)
  --sm                  stream management (XEP-0198) after bind, with
                        resumption enabled; every <r/> gets its <a h=.../>
  --tls-resume          each connection resumes its last TLS session (a ticket)
                        on its next login: a reconnecting client's handshake
  --mech M              SCRAM-SHA-256 (default), SCRAM-SHA-1, PLAIN
  --no-roster           skip the roster get after bind
  --no-presence         skip the initial presence
  --sources K           bind to 127.0.0.1..127.0.0.K (more than 64k connections)

Machinery and bounds:
  --threads N (1)       one io_context per thread
  --connect-concurrency N (50)   logins in progress at once
  --connect-rate R (0)  new connections per second, 0: unlimited
  --login-timeout S (30)
  --max-seconds S (300) the run ends by then whatever happens
  --count N             login: logins; chat: messages; presence: changes
  --quiet               no progress on stderr

Scenario sizes:
  --server-pid PID      hold: the server's RSS; login, chat, presence: its CPU
  --sessions N (100)    hold, reconnect    --hold-seconds S (10)
  --checkpoints A,B,..  hold: sample RSS at A, B, ... sessions (ascending;
                        the last replaces --sessions)
  --settle-seconds S (3)  hold: wait after each checkpoint before sampling;
                        reconnect: wait after the logins before the cut
  --concurrency N (10)  login       --users N   login/presence
  --duration S (10)     login, chat, presence
  --pairs N (10)  --window N (10)  --rate R (0: saturation)  --drain-seconds S (3)
  --body-bytes N        chat: body padded to at least N bytes
  --contacts K          presence: provisioned roster size (for the expected figure)
  --rooms R (1)  --occupants O (10)   muc: R rooms of O occupants (R x O accounts)
  --muc-domain D        muc: the MUC service (default conference.<domain>)

Paced runs (chat --rate, presence, pep, muc) wake the generator when the next
message is due (at most every 50 us), not on a fixed tick.

Output: a table on stdout, then one line "JSON {...}".
)";

bool parse_int(std::string_view s, std::int64_t& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

// "1000,10000,19000": positive and strictly ascending.
bool parse_checkpoints(std::string_view s, std::vector<std::int64_t>& out) {
  out.clear();
  while (!s.empty()) {
    auto comma = s.find(',');
    std::int64_t v = 0;
    if (!parse_int(s.substr(0, comma), v) || v < 1 || (!out.empty() && v <= out.back()))
      return false;
    out.push_back(v);
    s = comma == std::string_view::npos ? std::string_view{} : s.substr(comma + 1);
  }
  return !out.empty();
}

bool parse_double(const std::string& s, double& out) {
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return !s.empty() && end == s.c_str() + s.size();
}

}  // namespace

std::string user_name(const Options& o, std::int64_t index) {
  std::string out;
  std::string num = std::to_string(index);
  std::string_view pat = o.user_pattern;
  auto pos = pat.find("{}");
  if (pos == std::string_view::npos) {
    out.append(pat);
    out.append(num);
    return out;
  }
  out.append(pat.substr(0, pos));
  out.append(num);
  out.append(pat.substr(pos + 2));
  return out;
}

const char* mech_name(Mech m) {
  switch (m) {
    case Mech::kScramSha1: return "SCRAM-SHA-1";
    case Mech::kScramSha256: return "SCRAM-SHA-256";
    case Mech::kPlain: return "PLAIN";
  }
  return "?";
}

std::optional<Options> parse_options(int argc, char** argv, int* exit_code) {
  Options o;
  *exit_code = 2;
  auto fail = [&](const std::string& msg) -> std::optional<Options> {
    std::fprintf(stderr, "tern-bench: %s\n\n%s", msg.c_str(), kUsage);
    return std::nullopt;
  };
  if (argc < 2) return fail("no scenario given");
  std::string_view first = argv[1];
  if (first == "--help" || first == "-h" || first == "help") {
    std::fputs(kUsage, stdout);
    *exit_code = 0;
    return std::nullopt;
  }
  o.scenario = first;
  if (o.scenario != "hold" && o.scenario != "login" && o.scenario != "chat" &&
      o.scenario != "presence" && o.scenario != "pep" && o.scenario != "reconnect" &&
      o.scenario != "muc")
    return fail("unknown scenario '" + o.scenario + "'");

  using Setter = std::function<bool(const std::string&)>;
  auto integer = [](auto& field, std::int64_t lo) {
    return Setter([&field, lo](const std::string& v) {
      std::int64_t x = 0;
      if (!parse_int(v, x) || x < lo) return false;
      field = static_cast<std::remove_reference_t<decltype(field)>>(x);
      return true;
    });
  };
  auto real = [](double& field) {
    return Setter([&field](const std::string& v) { return parse_double(v, field) && field >= 0; });
  };
  auto text = [](std::string& field) {
    return Setter([&field](const std::string& v) {
      field = v;
      return !v.empty();
    });
  };
  struct Valued {
    const char* name;
    Setter set;
  };
  std::vector<Valued> valued = {
      {"--host", text(o.host)},
      {"--port", integer(o.port, 1)},
      {"--domain", text(o.domain)},
      {"--transport", Setter([&o](const std::string& v) {
         if (v == "tcp") o.transport = Transport::kTcp;
         else if (v == "ws") o.transport = Transport::kWs;
         else return false;
         return true;
       })},
      {"--ws-path", text(o.ws_path)},
      {"--user-pattern", text(o.user_pattern)},
      {"--password", text(o.password)},
      {"--first-user", integer(o.first_user, 0)},
      {"--resource", text(o.resource)},
      {"--mech", Setter([&o](const std::string& v) {
         if (v == "SCRAM-SHA-256") o.mech = Mech::kScramSha256;
         else if (v == "SCRAM-SHA-1") o.mech = Mech::kScramSha1;
         else if (v == "PLAIN") o.mech = Mech::kPlain;
         else return false;
         return true;
       })},
      {"--threads", integer(o.threads, 1)},
      {"--sources", integer(o.sources, 0)},
      {"--connect-concurrency", integer(o.connect_concurrency, 1)},
      {"--connect-rate", real(o.connect_rate)},
      {"--login-timeout", real(o.login_timeout)},
      {"--max-seconds", real(o.max_seconds)},
      {"--sessions", integer(o.sessions, 0)},
      {"--checkpoints",
       Setter([&o](const std::string& v) { return parse_checkpoints(v, o.checkpoints); })},
      {"--settle-seconds", real(o.settle_seconds)},
      {"--hold-seconds", real(o.hold_seconds)},
      {"--server-pid", integer(o.server_pid, 0)},
      {"--concurrency", integer(o.concurrency, 1)},
      {"--users", integer(o.users, 0)},
      {"--duration", real(o.duration)},
      {"--count", integer(o.count, 0)},
      {"--pairs", integer(o.pairs, 1)},
      {"--window", integer(o.window, 1)},
      {"--rate", real(o.rate)},
      {"--drain-seconds", real(o.drain_seconds)},
      {"--body-bytes", integer(o.body_bytes, 0)},
      {"--contacts", integer(o.contacts, 0)},
      {"--rooms", integer(o.rooms, 1)},
      {"--occupants", integer(o.occupants, 1)},
      {"--muc-domain", text(o.muc_domain)},
  };
  for (int i = 2; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      *exit_code = 0;
      return std::nullopt;
    }
    if (arg == "--tls") { o.tls = true; continue; }
    if (arg == "--no-tls") { o.tls = false; continue; }
    if (arg == "--tls-resume") { o.tls_resume = true; continue; }
    if (arg == "--no-roster") { o.fetch_roster = false; continue; }
    if (arg == "--no-presence") { o.send_presence = false; continue; }
    if (arg == "--sm") { o.stream_management = true; continue; }
    if (arg == "--quiet") { o.quiet = true; continue; }
    std::string value;
    bool has_value = false;
    if (auto eq = arg.find('='); eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg.resize(eq);
      has_value = true;
    }
    const Valued* opt = nullptr;
    for (const auto& v : valued)
      if (arg == v.name) opt = &v;
    if (!opt) return fail("unknown option " + arg);
    if (!has_value) {
      if (i + 1 >= argc) return fail(arg + " needs a value");
      value = argv[++i];
    }
    if (!opt->set(value)) return fail("bad value for " + arg + ": '" + value + "'");
  }
  if (o.sources > 254) return fail("--sources is at most 254");
  if (!o.checkpoints.empty()) o.sessions = o.checkpoints.back();
  // RFC 7395 has no STARTTLS: ws is plain ws:// (wss:// would be TLS first).
  if (o.transport == Transport::kWs) {
    if (o.tls_resume) return fail("--tls-resume needs --transport tcp");
    o.tls = false;
  }
  *exit_code = 0;
  return o;
}

}  // namespace tern::bench
