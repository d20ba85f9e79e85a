// XEP-0050 ad-hoc commands with XEP-0133 service administration.
#pragma once
#include "modules/module.h"

namespace tern::modules {
std::unique_ptr<Module> start_adhoc(ModuleContext& ctx);
}
