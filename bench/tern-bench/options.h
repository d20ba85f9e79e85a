// tern-bench command line: one scenario name, then --options.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tern::bench {

enum class Mech { kScramSha1, kScramSha256, kPlain };
// How the XML stream is carried: a TCP stream (RFC 6120) or WebSocket
// messages (RFC 7395, plain ws://, no STARTTLS).
enum class Transport { kTcp, kWs };

struct Options {
  std::string scenario;  // hold | login | chat | presence | pep | reconnect | muc

  // Where and who.
  std::string host = "127.0.0.1";
  int port = 5222;
  std::string domain = "localhost";
  std::string user_pattern = "bench{}";  // {} is replaced by the user index
  std::string password = "bench";
  std::int64_t first_user = 0;  // index of the first account used
  std::string resource = "tb";
  Transport transport = Transport::kTcp;
  std::string ws_path = "/xmpp-websocket";  // --transport ws: the HTTP path
  bool tls = true;  // STARTTLS (no certificate verification); tcp only
  // Keep each connection's TLS 1.3 session ticket and resume with it on the
  // next login, as a client reconnecting does.
  bool tls_resume = false;
  Mech mech = Mech::kScramSha256;
  bool fetch_roster = true;
  bool send_presence = true;
  // XEP-0198 after bind: <enable resume='true'/>, every <r/> answered with
  // the count of stanzas received, as a phone's client does.
  bool stream_management = false;
  std::string initial_presence = "<presence/>";  // what send_presence sends
  // Non-empty: disco#info queries are answered with identity client/bot
  // "tern-bench" and these features (what the pep scenario's caps hash).
  std::vector<std::string> disco_features;

  // Machinery.
  int threads = 1;
  int sources = 0;  // >0: bind to 127.0.0.1 .. 127.0.0.K, round-robin
  int connect_concurrency = 50;   // logins in progress at once, all threads together
  double connect_rate = 0;        // new connections per second; 0: as fast as the above allows
  double login_timeout = 30;      // seconds for one connection to get to "online"
  double max_seconds = 300;       // hard bound on the whole run
  bool quiet = false;             // no progress lines on stderr

  // Scenario sizes.
  std::int64_t sessions = 100;    // hold, reconnect
  std::vector<std::int64_t> checkpoints;  // hold: staged ramp; the last one is --sessions
  double settle_seconds = 3;      // hold: wait before each RSS sample; reconnect: before the cut
  double hold_seconds = 10;       // hold
  int server_pid = 0;             // hold: read the server's VmRSS
  int concurrency = 10;           // login: parallel login loops
  std::int64_t users = 0;         // login/presence: accounts to cycle through (0: a default)
  double duration = 10;           // login, chat, presence: measured seconds
  std::int64_t count = 0;         // login: logins; chat: messages; presence: changes (0: no bound)
  std::int64_t pairs = 10;        // chat
  int window = 10;                // chat at saturation: messages in flight per sender
  double rate = 0;                // chat/presence: offered per second in total; 0: saturation
  double drain_seconds = 3;       // chat: wait for stragglers before counting losses
  int body_bytes = 0;             // chat: pad the body to at least this many bytes
  int contacts = 0;               // presence: roster size provisioned (for the expected figure)
  std::int64_t rooms = 1;         // muc: rooms
  std::int64_t occupants = 10;    // muc: occupants per room
  std::string muc_domain;         // muc: the MUC service; empty: conference.<domain>
};

// Parses argv; on error or --help prints usage and returns nullopt with
// *exit_code set (0 for --help).
std::optional<Options> parse_options(int argc, char** argv, int* exit_code);

// "bench{}" with index 7 -> "bench7".
std::string user_name(const Options& o, std::int64_t index);
const char* mech_name(Mech m);

}  // namespace tern::bench
