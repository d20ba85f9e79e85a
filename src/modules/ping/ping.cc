// XEP-0199 XMPP Ping: the server answers pings addressed to it.
#include "modules/ping/ping.h"

namespace tern::modules {

std::unique_ptr<Module> start_ping(ModuleContext& ctx) {
  using router::IqTarget, router::IqType;
  read_no_options("ping", ctx.options);
  auto m = std::make_unique<Module>();
  auto pong = [](const router::IqRequest&) { return router::IqReply::result(); };
  m->tokens.push_back(ctx.serve_iq_sync(
      {IqTarget::kServer, IqType::kGet, "urn:xmpp:ping", "ping", Advertise::kOnServer}, pong));
  // A ping to one's own bare JID (or with no 'to') is answered by the server too.
  m->tokens.push_back(ctx.serve_iq_sync({IqTarget::kAccount, IqType::kGet, "urn:xmpp:ping", "ping"}, pong));
  return m;
}

TERN_MODULE("ping", "XEP-0199 XMPP Ping", &start_ping, 50);

}  // namespace tern::modules
