// RFC 6121 §2 rosters, XEP-0237 roster versioning.
#include "modules/roster/roster.h"

namespace tern::modules {

// Not written yet: registers nothing.
std::unique_ptr<Module> start_roster(ModuleContext& ctx) { return std::make_unique<Module>(); }

}  // namespace tern::modules
