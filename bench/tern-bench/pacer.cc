#include "tern-bench/pacer.h"

namespace tern::bench {

awaitable<void> pace(Worker& w, double rate, std::uint64_t limit,
                     std::function<void(std::uint64_t k)> send) {
  if (rate <= 0) co_return;
  asio::steady_timer timer(w.ioc);
  const auto start = Clock::now();
  const auto due = [&](std::uint64_t k) {
    return start + std::chrono::duration_cast<Clock::duration>(
                       std::chrono::duration<double>(double(k) / rate));
  };
  std::uint64_t sent = 0;
  while (w.sending && (!limit || sent < limit)) {
    auto now = Clock::now();
    for (; (!limit || sent < limit) && due(sent) <= now; ++sent) send(sent);
    // Sleep until the next message is due (never less than the floor).
    timer.expires_at(std::max(due(sent), now + kMinPacerSleep));
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(use_awaitable, ec));
  }
}

}  // namespace tern::bench
