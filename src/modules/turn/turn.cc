#include "modules/turn/turn.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <fmt/format.h>

#include "modules/options.h"
#include "sasl/mechanism.h"
#include "xmpp/datetime.h"
#include "xmpp/errors.h"

namespace tern::modules::turn {
namespace {

using router::IqReply, router::IqRequest, router::IqTarget, router::IqType;
using xmpp::StanzaCondition, xmpp::StanzaError;

constexpr const char* kExtdisco = "urn:xmpp:extdisco:2";

xml::Element service_element(const ExternalService& s, const TurnCredentials* credentials) {
  xml::Element el("service", kExtdisco);
  el.set_attr("type", s.type);
  el.set_attr("transport", s.transport);
  el.set_attr("host", s.host);
  el.set_attr("port", std::to_string(s.port));
  if (s.restricted) {
    el.set_attr("restricted", "1");
    if (credentials) {
      el.set_attr("username", credentials->username);
      el.set_attr("password", credentials->password);
      el.set_attr("expires", xmpp::format_datetime(credentials->expires));
    }
  }
  return el;
}

class TurnService {
 public:
  explicit TurnService(TurnConfig config)
      : config_(std::move(config)), services_(services_of(config_)) {}

  // <services/>: every service (of one type, when the request names one),
  // credentials included (XEP-0215 §2.1 lets the server hand them out here
  // so that a client needs one round trip).
  IqReply services(const IqRequest& req) const {
    if (auto refusal = check_sender(req)) return *refusal;
    std::string_view type = req.payload().attr_or("type");
    xml::Element answer("services", kExtdisco);
    if (!type.empty()) answer.set_attr("type", type);
    auto credentials = credentials_for(req.from);
    for (const auto& s : services_)
      if (type.empty() || s.type == type) answer.add_child(service_element(s, &credentials));
    return answer;
  }

  // <credentials><service host type [port]/></credentials> (§2.3).
  IqReply credentials(const IqRequest& req) const {
    if (auto refusal = check_sender(req)) return *refusal;
    const xml::Element* wanted = req.payload().child("service", kExtdisco);
    if (!wanted) return StanzaError(StanzaCondition::kBadRequest);
    auto credentials = credentials_for(req.from);
    xml::Element answer("credentials", kExtdisco);
    for (const auto& s : services_) {
      if (!s.restricted || s.host != wanted->attr_or("host") || s.type != wanted->attr_or("type"))
        continue;
      if (auto port = wanted->attr("port"); port && *port != std::to_string(s.port)) continue;
      answer.add_child(service_element(s, &credentials));
    }
    if (answer.children().empty()) return StanzaError(StanzaCondition::kItemNotFound);
    return answer;
  }

 private:
  // Credentials cost the TURN operator bandwidth: local accounts only.
  std::optional<IqReply> check_sender(const IqRequest& req) const {
    if (!req.from.has_node() || req.from.domain() != req.to.domain())
      return IqReply(StanzaError(StanzaCondition::kForbidden));
    return std::nullopt;
  }

  TurnCredentials credentials_for(const xmpp::Jid& who) const {
    return make_credentials(config_.secret, who.bare().to_string(),
                            std::chrono::system_clock::now() + config_.ttl);
  }

  TurnConfig config_;
  std::vector<ExternalService> services_;
};

}  // namespace

TurnCredentials make_credentials(const std::string& secret, const std::string& account,
                                 std::chrono::system_clock::time_point expires) {
  auto unix_seconds =
      std::chrono::duration_cast<std::chrono::seconds>(expires.time_since_epoch()).count();
  TurnCredentials c;
  c.username = fmt::format("{}:{}", unix_seconds, account);
  c.expires = std::chrono::system_clock::time_point(std::chrono::seconds(unix_seconds));
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_size = 0;
  HMAC(EVP_sha1(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(c.username.data()), c.username.size(), mac,
       &mac_size);
  c.password = sasl::base64_encode(std::string_view(reinterpret_cast<const char*>(mac), mac_size));
  return c;
}

std::vector<ExternalService> services_of(const TurnConfig& config) {
  std::vector<ExternalService> out;
  if (config.host.empty()) return out;
  if (config.stun) out.push_back({"stun", "udp", config.host, config.port, false});
  if (config.secret.empty()) return out;
  out.push_back({"turn", "udp", config.host, config.port, true});
  out.push_back({"turn", "tcp", config.host, config.port, true});
  if (config.tls_port != 0) out.push_back({"turns", "tcp", config.host, config.tls_port, true});
  return out;
}

std::unique_ptr<Module> start_turn(ModuleContext& ctx) {
  TurnConfig config = read_options("turn", ctx.options, kTurnOptions);

  auto m = std::make_unique<Module>();
  // Nothing configured: nothing advertised.
  if (config.host.empty()) return m;
  auto service = std::make_shared<const TurnService>(std::move(config));
  // One handler for the namespace: <services/> and <credentials/> share it.
  m->tokens.push_back(ctx.serve_iq_sync(
      {IqTarget::kServer, IqType::kGet, kExtdisco, "services|credentials", Advertise::kOnServer},
      [service](const IqRequest& req) -> IqReply {
        const auto& name = req.payload().name();
        if (name == "services") return service->services(req);
        return service->credentials(req);
      }));
  return m;
}

TERN_MODULE("turn", "XEP-0215 STUN/TURN discovery with coturn REST API credentials",
            &start_turn, 50, kTurnOptions);

}  // namespace tern::modules::turn
