#include "modules/module.h"

#include <algorithm>

namespace tern::modules {
namespace {

using xmpp::StanzaCondition;
using xmpp::StanzaError;

std::vector<ModuleInfo>& registry() {
  static std::vector<ModuleInfo> modules;
  return modules;
}

// An empty payload name lets the handler tell its children apart (carbons'
// <enable/> and <disable/> share one namespace).
bool has_payload(const router::IqRequest& req, std::string_view payload) {
  return payload.empty() || req.payload().name() == payload;
}

// A coroutine of its own, not a capturing coroutine lambda: the frame owns
// the handler it calls.
awaitable<router::IqReply> answer_checked(std::string payload, router::IqHandler handler,
                                          const router::IqRequest& req) {
  if (!has_payload(req, payload)) co_return StanzaError(StanzaCondition::kBadRequest);
  co_return co_await handler(req);
}

}  // namespace

ModuleRegistrar::ModuleRegistrar(ModuleInfo info) {
  auto& modules = registry();
  // Stable by rank; equal ranks start by name, so the order never depends
  // on the link order of the object files.
  auto at = std::find_if(modules.begin(), modules.end(), [&](const ModuleInfo& m) {
    return m.rank > info.rank || (m.rank == info.rank && std::string_view(m.name) > info.name);
  });
  modules.insert(at, info);
}

const std::vector<ModuleInfo>& builtin_modules() { return registry(); }

core::HookToken ModuleContext::serve_iq(const IqService& service, router::IqHandler handler) {
  advertise(service);
  return router_.iq().add(service.target, service.type, std::string(service.ns),
                          [payload = std::string(service.payload),
                           handler = std::move(handler)](const router::IqRequest& req) {
                            return answer_checked(payload, handler, req);
                          });
}

core::HookToken ModuleContext::serve_iq_sync(const IqService& service,
                                             router::SyncIqHandler handler) {
  advertise(service);
  return router_.iq().add_sync(
      service.target, service.type, std::string(service.ns),
      [payload = std::string(service.payload),
       handler = std::move(handler)](const router::IqRequest& req) -> router::IqReply {
        if (!has_payload(req, payload)) return StanzaError(StanzaCondition::kBadRequest);
        return handler(req);
      });
}

void ModuleContext::advertise(const IqService& service) {
  // disco lists each feature once, however many handlers share it.
  if (service.advertise == Advertise::kOnServer)
    features.disco_features.emplace_back(service.ns);
  else if (service.advertise == Advertise::kOnAccount)
    features.account_features.emplace_back(service.ns);
}

}  // namespace tern::modules
