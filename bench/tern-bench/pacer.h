// A paced sender for the fixed-rate scenarios (chat --rate, presence, pep,
// muc): one coroutine per worker that sleeps until the next message is due
// and sends what is due, so at a light load the generator wakes once per
// message (200 msgs/s: 200 wakeups/s), not every millisecond, and never
// keeps a timer per session.
#pragma once

#include <cstdint>
#include <functional>

#include "tern-bench/worker.h"

namespace tern::bench {

// Calls send(k) for k = 0, 1, 2, ... at `rate` per second from now, while
// w.sending and k < limit (0: no limit). Message k is due at start + k/rate;
// a late wakeup sends every message due so far, so the average rate holds.
// At high rates wakeups are at least kMinPacerSleep apart (a burst of the
// messages due by then), so the timer costs no more than the messages.
awaitable<void> pace(Worker& w, double rate, std::uint64_t limit,
                     std::function<void(std::uint64_t k)> send);

inline constexpr auto kMinPacerSleep = std::chrono::microseconds(50);

}  // namespace tern::bench
