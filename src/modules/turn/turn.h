// XEP-0215 external service discovery: tells a client which STUN and TURN
// servers to use for calls, with TURN credentials that expire, in the
// "REST API" scheme coturn implements (use-auth-secret): the user name is
// "<expiry as Unix time>:<account>" and the password is
// base64(HMAC-SHA1(shared secret, user name)), so the TURN server checks
// them with nothing but the secret it shares with Tern.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "modules/module.h"

namespace tern::modules::turn {

struct TurnCredentials {
  std::string username;
  std::string password;
  std::chrono::system_clock::time_point expires;
};

TurnCredentials make_credentials(const std::string& secret, const std::string& account,
                                 std::chrono::system_clock::time_point expires);

// One <service/> of the answer.
struct ExternalService {
  std::string type;       // "stun", "turn", "turns"
  std::string transport;  // "udp", "tcp"
  std::string host;
  int port = 0;
  bool restricted = false;  // needs the credentials we hand out
};

struct TurnConfig {
  std::string host;  // empty: nothing to offer
  int port = 3478;
  int tls_port = 5349;  // 0: no TURN over TLS
  std::string secret;   // empty: STUN only
  std::chrono::seconds ttl{86400};
  bool stun = true;
};
inline constexpr OptionField<TurnConfig> kTurnOptions[] = {
    option("host", &TurnConfig::host, "STUN/TURN server offered to clients (XEP-0215); empty: none"),
    option("port", &TurnConfig::port, 1, 65535, "Its STUN and TURN port (UDP and TCP)"),
    option("tls_port", &TurnConfig::tls_port, 0, 65535, "Its TURN-over-TLS port; 0: none"),
    option("secret", &TurnConfig::secret,
           "The static-auth-secret shared with coturn (use-auth-secret); empty: STUN only"),
    option("ttl_seconds", &TurnConfig::ttl, 60, 30 * 86400, "How long TURN credentials stay valid"),
    option("stun", &TurnConfig::stun, "Offer the host as a STUN server as well"),
};

// The services `config` offers, in the order they are listed.
std::vector<ExternalService> services_of(const TurnConfig& config);

std::unique_ptr<Module> start_turn(ModuleContext& ctx);

}  // namespace tern::modules::turn
