// XEP-0199 XMPP Ping: the server answers pings addressed to it.
#include "modules/ping/ping.h"

namespace tern::modules {

std::unique_ptr<Module> start_ping(ModuleContext& ctx) {
  auto m = std::make_unique<Module>();
  auto pong = [](const router::IqRequest&) { return router::IqReply::result(); };
  m->tokens.push_back(ctx.router.iq().add_sync(router::IqTarget::kServer, router::IqType::kGet,
                                               "urn:xmpp:ping", pong));
  // A ping to one's own bare JID (or with no 'to') is answered by the server too.
  m->tokens.push_back(ctx.router.iq().add_sync(router::IqTarget::kAccount, router::IqType::kGet,
                                               "urn:xmpp:ping", pong));
  ctx.features.disco_features.push_back("urn:xmpp:ping");
  return m;
}

}  // namespace tern::modules
