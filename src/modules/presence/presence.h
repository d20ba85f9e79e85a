// RFC 6121 §3-4 subscriptions, presence broadcast, probes, directed presence.
#pragma once
#include "modules/module.h"

namespace tern::modules {
std::unique_ptr<Module> start_presence(ModuleContext& ctx);
}
