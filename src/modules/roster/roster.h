// RFC 6121 §2 rosters, XEP-0237 roster versioning.
#pragma once
#include "modules/module.h"

namespace tern::modules {
std::unique_ptr<Module> start_roster(ModuleContext& ctx);
}
