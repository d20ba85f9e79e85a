// RFC 6121 §3-4 subscriptions, presence broadcast, probes, directed presence.
#include "modules/presence/presence.h"

namespace tern::modules {

// Not written yet: registers nothing.
std::unique_ptr<Module> start_presence(ModuleContext& ctx) { return std::make_unique<Module>(); }

}  // namespace tern::modules
