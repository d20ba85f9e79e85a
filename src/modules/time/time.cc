// XEP-0202 entity time.
#include "modules/time/time.h"

namespace tern::modules {

// Not written yet: registers nothing.
std::unique_ptr<Module> start_time(ModuleContext& ctx) { return std::make_unique<Module>(); }

}  // namespace tern::modules
