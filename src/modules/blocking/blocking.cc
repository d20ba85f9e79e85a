// XEP-0191 blocking command.
#include "modules/blocking/blocking.h"

namespace tern::modules {

// Not written yet: registers nothing.
std::unique_ptr<Module> start_blocking(ModuleContext& ctx) { return std::make_unique<Module>(); }

}  // namespace tern::modules
