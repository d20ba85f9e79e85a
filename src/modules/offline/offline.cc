// XEP-0160 offline messages with XEP-0203 delay.
#include "modules/offline/offline.h"

namespace tern::modules {

// Not written yet: registers nothing.
std::unique_ptr<Module> start_offline(ModuleContext& ctx) { return std::make_unique<Module>(); }

}  // namespace tern::modules
