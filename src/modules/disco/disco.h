// XEP-0030 service discovery.
#pragma once
#include "modules/module.h"

namespace tern::modules {
std::unique_ptr<Module> start_disco(ModuleContext& ctx);
}
