// XEP-0054 vcard-temp.
#pragma once
#include "modules/module.h"

namespace tern::modules {
std::unique_ptr<Module> start_vcard(ModuleContext& ctx);
}
