// Slows down password guessing: each address's recent SASL failures make
// its next failure answer later (RFC 6120 §6.4.5 leaves the policy to us).
// Shared by all shards; one short lock per failed attempt.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

namespace tern::stream {

class AuthThrottle {
 public:
  using Clock = std::chrono::steady_clock;
  // Records a failure from `ip` and returns how long to wait before saying so.
  std::chrono::milliseconds record_failure(const std::string& ip, Clock::time_point now = Clock::now());
  void record_success(const std::string& ip);

 private:
  struct Entry {
    int failures = 0;
    Clock::time_point last;
  };
  std::mutex mutex_;
  std::unordered_map<std::string, Entry> by_ip_;
};

}  // namespace tern::stream
