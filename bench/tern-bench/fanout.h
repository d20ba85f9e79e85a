// The fan-out scenarios (presence, pep): one runner, the scenario supplies
// the change each session makes and the handler that counts deliveries.
#pragma once

#include <functional>

#include "tern-bench/scenarios.h"

namespace tern::bench {

struct FanoutScenario {
  // Sends the `sent`-th change, from a session on its `round`-th turn.
  using SendChange = std::function<void(Connection& c, std::uint64_t round, std::uint64_t sent)>;
  const char* name;         // report title: "presence", "pep"
  SessionHandler& handler;  // counts deliveries (w.stats.received)
  SendChange send_change;
  const char* changes_key;  // report key and progress word: "changes", "publishes"
  const char* changes;      // "presence changes", "publishes"
  const char* received;     // "presences received", "notifications received"
};

int run_fanout(const Env& env, const FanoutScenario& scenario);

}  // namespace tern::bench
