// XEP-0012 last activity.
#pragma once
#include "modules/module.h"

namespace tern::modules {
std::unique_ptr<Module> start_last(ModuleContext& ctx);
}
