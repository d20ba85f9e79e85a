// XEP-0050 ad-hoc commands with XEP-0133 service administration.
#include "modules/adhoc/adhoc.h"

namespace tern::modules {

// Not written yet: registers nothing.
std::unique_ptr<Module> start_adhoc(ModuleContext& ctx) { return std::make_unique<Module>(); }

}  // namespace tern::modules
