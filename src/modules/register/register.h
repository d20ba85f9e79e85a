// XEP-0077 in-band registration (off unless enabled).
#pragma once
#include "modules/module.h"

namespace tern::modules {
std::unique_ptr<Module> start_register(ModuleContext& ctx);
}
