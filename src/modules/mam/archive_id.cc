#include "modules/mam/archive_id.h"

#include <algorithm>

namespace tern::modules::mam {
namespace {

constexpr std::string_view kAlphabet = "0123456789abcdefghjkmnpqrstvwxyz";
constexpr std::size_t kEncodedLength = 13;  // 65 bits >= 64

std::int64_t micros_since_epoch(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count() -
         kIdEpochSeconds * 1'000'000;
}

int digit_of(char c) {
  auto at = kAlphabet.find(c);
  return at == std::string_view::npos ? -1 : static_cast<int>(at);
}

}  // namespace

std::int64_t first_id_at(TimePoint t) {
  constexpr std::int64_t kMaxMicros = INT64_MAX >> kIdCounterBits;
  const std::int64_t us = std::clamp<std::int64_t>(micros_since_epoch(t), 0, kMaxMicros);
  return us << kIdCounterBits;
}

TimePoint time_of(std::int64_t id) {
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(
      std::chrono::seconds(kIdEpochSeconds) + std::chrono::microseconds(id >> kIdCounterBits)));
}

std::string encode_id(std::int64_t id) {
  std::string out(kEncodedLength, '0');
  auto v = static_cast<std::uint64_t>(id);
  for (std::size_t i = kEncodedLength; i-- > 0;) {
    out[i] = kAlphabet[v & 31];
    v >>= 5;
  }
  return out;
}

std::optional<std::int64_t> decode_id(std::string_view text) {
  if (text.size() != kEncodedLength) return std::nullopt;
  // The first character carries the top 5 of 65 bits: 0..7 keeps the value
  // a positive int64.
  const int top = digit_of(text[0]);
  if (top < 0 || top > 7) return std::nullopt;
  std::uint64_t v = static_cast<std::uint64_t>(top);
  for (std::size_t i = 1; i < kEncodedLength; ++i) {
    const int d = digit_of(text[i]);
    if (d < 0) return std::nullopt;
    v = (v << 5) | static_cast<std::uint64_t>(d);
  }
  if (v == 0) return std::nullopt;  // ids start at 1
  return static_cast<std::int64_t>(v);
}

std::int64_t IdSource::next(TimePoint now) {
  const std::int64_t from_clock = first_id_at(now);
  std::int64_t last = last_.load(std::memory_order_relaxed);
  std::int64_t id;
  do {
    id = std::max(from_clock, last + 1);
  } while (!last_.compare_exchange_weak(last, id, std::memory_order_relaxed));
  return id;
}

}  // namespace tern::modules::mam
