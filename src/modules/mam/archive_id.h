// Archive ids (docs/mam.md): microseconds since 2020-01-01 shifted left by
// 12 bits, plus a counter for ids made in the same microsecond. An id says
// when its message was archived, so the 'start'/'end' filters of a query
// become id bounds and need no column of their own. Clients see an id as
// 13 base32 characters: opaque to them, and sorting like the number.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tern::modules::mam {

using TimePoint = std::chrono::system_clock::time_point;

inline constexpr int kIdCounterBits = 12;
// 2020-01-01T00:00:00Z. A later epoch than 1970 keeps ids below 2^63 until
// 2091 (from 1970 they would run out in 2041).
inline constexpr std::int64_t kIdEpochSeconds = 1577836800;

// The smallest id made at `t` (ids of earlier instants are all below it).
std::int64_t first_id_at(TimePoint t);
// When the message with this id was archived (to the microsecond).
TimePoint time_of(std::int64_t id);

// 13 characters of 0-9a-z without i, l, o, u (Crockford's alphabet).
std::string encode_id(std::int64_t id);
// nullopt for anything encode_id cannot have written.
std::optional<std::int64_t> decode_id(std::string_view text);

// Makes increasing ids from any thread: the clock's id, or one more than
// the last id if the clock has not moved (or went back).
class IdSource {
 public:
  // `floor`: ids made are above it (the highest id already stored).
  explicit IdSource(std::int64_t floor) : last_(floor) {}
  std::int64_t next(TimePoint now);

 private:
  std::atomic<std::int64_t> last_;
};

}  // namespace tern::modules::mam
