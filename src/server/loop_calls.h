// Calls into the shard loops from the main thread. A loop's objects
// (acceptors, sessions) are only ever touched by the loop's own thread, so
// the main thread asks that thread and waits for the answer.
#pragma once

#include <functional>

#include "core/asio.h"
#include "server/steps.h"

namespace tern::server {

// Runs `f` on `loop`'s thread and waits for it; what `f` throws is rethrown
// here. The loop must be running.
void run_on(asio::io_context& loop, std::function<void()> f);
// The same, waiting at most until `deadline`: false when it passed first
// (`f` may still run later). What `f` throws is logged, not rethrown.
bool run_on(asio::io_context& loop, std::function<void()> f, Deadline deadline);
// Checks `done` every few milliseconds until it holds (true) or the
// deadline passes (false).
bool wait_until(Deadline deadline, const std::function<bool()>& done);

}  // namespace tern::server
