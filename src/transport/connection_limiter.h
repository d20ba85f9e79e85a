// Caps how many connections one address may open per minute (a sliding
// window of one-minute buckets), so one host cannot exhaust the server's
// file descriptors. Shared by all shards; one short lock per accept.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

namespace tern::transport {

class ConnectionLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  explicit ConnectionLimiter(long per_minute) : per_minute_(per_minute) {}
  // Counts a connection from `ip`; false when the address is over its rate.
  bool allow(const std::string& ip, Clock::time_point now = Clock::now());

 private:
  struct Window {
    Clock::time_point start;
    long count = 0;
  };
  long per_minute_;
  std::mutex mutex_;
  std::unordered_map<std::string, Window> by_ip_;
};

}  // namespace tern::transport
