// Logging: spdlog's default logger, configured once at start. Every line a
// peer can cause carries the connection id so an operator can follow it.
#pragma once

#include <spdlog/spdlog.h>

#include <string>

namespace tern::core {
// Sets the level ("trace" … "error") and the stderr sink. Call once at start.
void init_logging(const std::string& level);
}  // namespace tern::core
