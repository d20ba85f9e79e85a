// XEP-0030 service discovery.
#include "modules/disco/disco.h"

namespace tern::modules {

// Not written yet: registers nothing.
std::unique_ptr<Module> start_disco(ModuleContext& ctx) { return std::make_unique<Module>(); }

}  // namespace tern::modules
