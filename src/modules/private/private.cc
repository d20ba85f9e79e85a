// XEP-0049 private XML storage.
#include "modules/private/private.h"

namespace tern::modules {

// Not written yet: registers nothing.
std::unique_ptr<Module> start_private(ModuleContext& ctx) { return std::make_unique<Module>(); }

}  // namespace tern::modules
