// Counters the client streams keep for /metrics: one block per shard, each
// on its own cache line and written only by its shard, so counting costs the
// hot path one relaxed add and no contention. Readers sum the blocks.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace tern::stream {

enum class StreamKind { kTcp = 0, kWebSocket = 1, kBosh = 2 };
enum class StanzaKind { kMessage = 0, kPresence = 1, kIq = 2 };
constexpr int kStreamKinds = 3;
constexpr int kStanzaKinds = 3;

struct alignas(64) ShardStreamCounters {
  std::atomic<std::int64_t> open[kStreamKinds]{};
  std::atomic<std::uint64_t> logins[kStreamKinds]{};
  std::atomic<std::uint64_t> login_failures[kStreamKinds]{};
  std::atomic<std::uint64_t> stanzas_in[kStanzaKinds]{};
  std::atomic<std::uint64_t> stanzas_out{};
};

class StreamMetrics {
 public:
  explicit StreamMetrics(unsigned shards) : shards_(shards) {}
  ShardStreamCounters& shard(unsigned s) { return shards_[s]; }
  // Prometheus text for every counter, summed over the shards.
  std::string render() const;

 private:
  std::vector<ShardStreamCounters> shards_;
};

inline void bump(std::atomic<std::uint64_t>& c) { c.fetch_add(1, std::memory_order_relaxed); }
inline void bump(std::atomic<std::int64_t>& c, std::int64_t by) {
  c.fetch_add(by, std::memory_order_relaxed);
}

}  // namespace tern::stream
