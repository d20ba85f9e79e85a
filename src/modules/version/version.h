// XEP-0092 software version.
#pragma once
#include "modules/module.h"

namespace tern::modules {
std::unique_ptr<Module> start_version(ModuleContext& ctx);
}
