// Every open stream and hibernated session, per shard, so that shutdown (and
// later admin commands) can reach streams that are not bound to a JID yet.
// Each shard's set is touched only by that shard's thread: a session leaves
// it when it ends there (ResumableSession::leave_live), not when its last
// reference goes, which may be on another shard.
#pragma once

#include <atomic>
#include <functional>
#include <unordered_set>
#include <vector>

#include "router/session.h"

namespace tern::stream {

class LiveStreams {
 public:
  explicit LiveStreams(unsigned shards) : per_shard_(shards) {}
  void add(unsigned shard, router::Session* s) {
    per_shard_[shard].insert(s);
    ++total_;
  }
  void remove(unsigned shard, router::Session* s) {
    if (per_shard_[shard].erase(s)) --total_;
  }
  // Any thread.
  std::size_t total() const { return total_.load(); }
  // Call on `shard`'s own thread.
  void for_each(unsigned shard, const std::function<void(router::Session&)>& f) {
    std::vector<router::Session*> copy(per_shard_[shard].begin(), per_shard_[shard].end());
    for (auto* s : copy) f(*s);
  }

 private:
  std::vector<std::unordered_set<router::Session*>> per_shard_;
  std::atomic<std::size_t> total_{0};
};

}  // namespace tern::stream
