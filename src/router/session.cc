#include "router/session.h"

#include <atomic>

namespace tern::router {

std::size_t SessionStateSlots::next_slot() {
  static std::atomic<std::size_t> next{0};
  return next.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace tern::router
