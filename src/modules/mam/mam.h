// XEP-0313 Message Archive Management for user archives, with XEP-0059
// result set management and XEP-0359 stanza ids; the design is in
// docs/mam.md. Facets:
//   archive_id   ids: time-ordered integers, base32 on the wire
//   policy       which messages, which peers (prefs), stanza-id elements
//   query        the query form and RSM, parsed from untrusted XML
//   writer       the batched writer queue (fate of queued rows on SIGTERM,
//                kill -9 and a full disk)
//   mam          hooks, iq handlers, retention
#pragma once

#include "modules/module.h"

namespace tern::modules {
std::unique_ptr<Module> start_mam(ModuleContext& ctx);
}
