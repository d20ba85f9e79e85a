#include "modules/module.h"
#include "modules/ping/ping.h"
#include "modules/roster/roster.h"
#include "modules/presence/presence.h"
#include "modules/offline/offline.h"
#include "modules/disco/disco.h"
#include "modules/version/version.h"
#include "modules/time/time.h"
#include "modules/last/last.h"
#include "modules/vcard/vcard.h"
#include "modules/private/private.h"
#include "modules/blocking/blocking.h"
#include "modules/register/register.h"
#include "modules/adhoc/adhoc.h"

namespace tern::modules {

// Every module compiled in, in start order: roster before presence (presence
// reads rosters), disco last so it sees every feature the others added.
const std::vector<ModuleInfo>& builtin_modules() {
  static const std::vector<ModuleInfo> kModules = {
      {"ping", "XEP-0199 XMPP Ping", &start_ping},
      {"roster", "RFC 6121 §2 rosters, XEP-0237 roster versioning", &start_roster},
      {"presence", "RFC 6121 §3-4 subscriptions, presence broadcast, probes, directed presence", &start_presence},
      {"offline", "XEP-0160 offline messages with XEP-0203 delay", &start_offline},
      {"version", "XEP-0092 software version", &start_version},
      {"time", "XEP-0202 entity time", &start_time},
      {"last", "XEP-0012 last activity", &start_last},
      {"vcard", "XEP-0054 vcard-temp", &start_vcard},
      {"private", "XEP-0049 private XML storage", &start_private},
      {"blocking", "XEP-0191 blocking command", &start_blocking},
      {"register", "XEP-0077 in-band registration (off unless enabled)", &start_register},
      {"adhoc", "XEP-0050 ad-hoc commands with XEP-0133 service administration", &start_adhoc},
      {"disco", "XEP-0030 service discovery", &start_disco},
  };
  return kModules;
}

}  // namespace tern::modules
