// `tern serve`: puts the parts together — storage, TLS, shards, router,
// modules, listeners — runs until SIGTERM/SIGINT, then closes every stream
// with <system-shutdown/>.
#pragma once

#include "core/config.h"

namespace tern::cli {

// Returns the process exit code. Throws on startup failure (bad certificate,
// port taken, storage unopenable) with a message for the operator.
int serve(const core::Config& config);

}  // namespace tern::cli
