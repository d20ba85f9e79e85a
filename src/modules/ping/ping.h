#pragma once
#include "modules/module.h"

namespace tern::modules {
std::unique_ptr<Module> start_ping(ModuleContext& ctx);
}
