// XEP-0160 offline messages with XEP-0203 delay.
#pragma once
#include "modules/module.h"

namespace tern::modules {
std::unique_ptr<Module> start_offline(ModuleContext& ctx);
}
