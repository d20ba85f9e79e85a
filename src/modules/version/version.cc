// XEP-0092 software version.
#include "modules/version/version.h"

namespace tern::modules {

// Not written yet: registers nothing.
std::unique_ptr<Module> start_version(ModuleContext& ctx) { return std::make_unique<Module>(); }

}  // namespace tern::modules
