// XEP-0191 blocking command.
#pragma once
#include "modules/module.h"

namespace tern::modules {
std::unique_ptr<Module> start_blocking(ModuleContext& ctx);
}
