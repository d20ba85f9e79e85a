// XEP-0049 private XML storage.
#pragma once
#include "modules/module.h"

namespace tern::modules {
std::unique_ptr<Module> start_private(ModuleContext& ctx);
}
