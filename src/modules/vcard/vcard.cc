// XEP-0054 vcard-temp.
#include "modules/vcard/vcard.h"

namespace tern::modules {

// Not written yet: registers nothing.
std::unique_ptr<Module> start_vcard(ModuleContext& ctx) { return std::make_unique<Module>(); }

}  // namespace tern::modules
