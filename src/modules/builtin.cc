#include "modules/module.h"
#include "modules/ping/ping.h"

namespace tern::modules {

const std::vector<ModuleInfo>& builtin_modules() {
  static const std::vector<ModuleInfo> kModules = {
      {"ping", "XEP-0199 XMPP Ping", &start_ping},
  };
  return kModules;
}

}  // namespace tern::modules
