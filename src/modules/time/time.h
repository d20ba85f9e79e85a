// XEP-0202 entity time.
#pragma once
#include "modules/module.h"

namespace tern::modules {
std::unique_ptr<Module> start_time(ModuleContext& ctx);
}
