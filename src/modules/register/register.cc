// XEP-0077 in-band registration (off unless enabled).
#include "modules/register/register.h"

namespace tern::modules {

// Not written yet: registers nothing.
std::unique_ptr<Module> start_register(ModuleContext& ctx) { return std::make_unique<Module>(); }

}  // namespace tern::modules
