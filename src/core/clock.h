// Wall-clock helpers shared by every layer. Header-only, so that storage,
// which links below core, can use them too.
#pragma once

#include <chrono>
#include <cstdint>

namespace tern::core {

// Seconds since the Unix epoch, as stored in the database and used by
// XEP-0012 last activity.
inline std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace tern::core
