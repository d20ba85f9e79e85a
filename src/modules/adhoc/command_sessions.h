// Command sessions of XEP-0050 §4.3: a sessionid ties the stages of one
// execution to one requester and one command node, until it completes, is
// canceled or expires. Requests arrive on every shard, so the table sits
// behind a mutex; entries are a few strings each.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>

namespace tern::modules::adhoc {

class CommandSessions {
 public:
  using Clock = std::chrono::steady_clock;

  CommandSessions(Clock::duration lifetime, std::size_t max_sessions)
      : lifetime_(lifetime), max_sessions_(max_sessions), random_(std::random_device{}()) {}

  // Opens a session of `node` for `owner` (the requester's full JID) and
  // returns its id ("<prefix>:<random hex>"); empty when the table is full.
  std::string open(std::string_view prefix, std::string_view node, std::string_view owner,
                   Clock::time_point now);
  // True when `id` is live, of `node`, and belongs to `owner`; it then lives
  // `lifetime` longer from `now`.
  bool touch(std::string_view id, std::string_view node, std::string_view owner,
             Clock::time_point now);
  // Ends a session (completed or canceled).
  void close(std::string_view id);
  std::size_t size() const;

 private:
  struct Entry {
    std::string node;
    std::string owner;
    Clock::time_point expires;
  };
  void sweep(Clock::time_point now);

  const Clock::duration lifetime_;
  const std::size_t max_sessions_;
  mutable std::mutex mutex_;
  std::mt19937_64 random_;
  std::unordered_map<std::string, Entry> sessions_;
};

}  // namespace tern::modules::adhoc
