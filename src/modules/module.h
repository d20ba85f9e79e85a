// The module API: what a feature gets (a narrow context) and what it gives
// (hooks, iq handlers, disco features), all released when it is stopped.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/blocking_pool.h"
#include "core/config.h"
#include "core/hook.h"
#include "router/router.h"
#include "storage/storage.h"

namespace tern::modules {

struct DiscoItem {
  std::string jid;
  std::string node;
  std::string name;
};
// The disco#items of one node of the server, for one requester (e.g. the
// ad-hoc commands an admin may run).
using DiscoNodeItems = std::function<std::vector<DiscoItem>(const xmpp::Jid& requester)>;

// What the server tells about itself in disco#info (XEP-0030) and stream
// features; modules add to it at start.
struct ServerFeatures {
  std::vector<std::string> disco_features;  // of the server domain
  std::vector<std::string> account_features;  // of every account's bare JID
  // Stream features offered once a client is authenticated (serialized
  // elements, e.g. "<ver xmlns='urn:xmpp:features:rosterver'/>").
  std::vector<std::string> stream_features;
  // Stream features offered before authentication (after TLS when required),
  // e.g. "<register xmlns='http://jabber.org/features/iq-register'/>".
  std::vector<std::string> pre_auth_stream_features;
  // Nodes of the server's disco#items that other modules answer, by node name.
  std::map<std::string, DiscoNodeItems> disco_item_nodes;
};

struct ModuleContext {
  router::Router& router;
  storage::Storage& storage;
  core::BlockingPool& blocking;
  const core::Config& config;
  ServerFeatures& features;
  // This module's own [modules.<name>] table, raw.
  const std::map<std::string, std::string>& options;
};

class Module {
 public:
  virtual ~Module() = default;
  // Tokens of what the module registered; dropped with the module.
  std::vector<core::HookToken> tokens;
};

struct ModuleInfo {
  const char* name;
  const char* description;  // one line, for the README's list
  std::unique_ptr<Module> (*start)(ModuleContext& ctx);
};

// Every module compiled into the binary (a core registry, filled at start).
const std::vector<ModuleInfo>& builtin_modules();

}  // namespace tern::modules
