// XEP-0012 last activity.
#include "modules/last/last.h"

namespace tern::modules {

// Not written yet: registers nothing.
std::unique_ptr<Module> start_last(ModuleContext& ctx) { return std::make_unique<Module>(); }

}  // namespace tern::modules
