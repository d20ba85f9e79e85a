#include <gtest/gtest.h>

#include "modules/mam/archive_id.h"

namespace tern::modules::mam {
namespace {

using std::chrono::microseconds;
using std::chrono::seconds;

TimePoint at_seconds(std::int64_t s) { return TimePoint(seconds(s)); }

TEST(ArchiveId, EncodeDecodeRoundTrip) {
  for (std::int64_t id : {std::int64_t{1}, std::int64_t{31}, std::int64_t{32}, std::int64_t{123456789},
                          first_id_at(at_seconds(1764950000)), INT64_MAX}) {
    auto text = encode_id(id);
    EXPECT_EQ(text.size(), 13u);
    EXPECT_EQ(decode_id(text), id) << text;
  }
}

TEST(ArchiveId, EncodedIdsSortLikeTheNumbers) {
  std::int64_t ids[] = {1, 2, 31, 32, 1000, 1 << 20, first_id_at(at_seconds(1764950000)),
                        first_id_at(at_seconds(1764950001)), INT64_MAX - 1, INT64_MAX};
  for (std::size_t i = 1; i < std::size(ids); ++i)
    EXPECT_LT(encode_id(ids[i - 1]), encode_id(ids[i])) << ids[i - 1] << " " << ids[i];
}

TEST(ArchiveId, DecodeRefusesWhatEncodeCannotWrite) {
  EXPECT_FALSE(decode_id(""));
  EXPECT_FALSE(decode_id("000000000001"));     // 12 characters
  EXPECT_FALSE(decode_id("00000000000001"));   // 14
  EXPECT_FALSE(decode_id("0000000000000"));    // zero
  EXPECT_FALSE(decode_id("800000000000a"));    // above INT64_MAX
  EXPECT_FALSE(decode_id("000000000000i"));    // not in the alphabet
  EXPECT_FALSE(decode_id("000000000000A"));    // upper case
  EXPECT_FALSE(decode_id("28482-98726-7"));
  EXPECT_TRUE(decode_id("7zzzzzzzzzzzz"));     // INT64_MAX
}

TEST(ArchiveId, TimeOfAnIdIsWhenItWasMade) {
  const TimePoint t = at_seconds(1764950000) + microseconds(123456);
  EXPECT_EQ(time_of(first_id_at(t)), t);
  EXPECT_EQ(time_of(first_id_at(t) + 4095), t);
  EXPECT_EQ(time_of(first_id_at(t) + 4096), t + microseconds(1));
}

TEST(ArchiveId, BeforeTheEpochClampsToZero) {
  EXPECT_EQ(first_id_at(at_seconds(0)), 0);
  EXPECT_EQ(first_id_at(at_seconds(kIdEpochSeconds)), 0);
  EXPECT_EQ(first_id_at(at_seconds(kIdEpochSeconds) + microseconds(1)), 4096);
}

TEST(ArchiveIdSource, IdsIncreaseEvenWhenTheClockStandsStillOrGoesBack) {
  const TimePoint t = at_seconds(1764950000);
  IdSource source(0);
  auto a = source.next(t);
  auto b = source.next(t);
  auto c = source.next(t - seconds(10));
  EXPECT_EQ(a, first_id_at(t));
  EXPECT_EQ(b, a + 1);
  EXPECT_EQ(c, b + 1);
  EXPECT_EQ(source.next(t + seconds(1)), first_id_at(t + seconds(1)));
}

TEST(ArchiveIdSource, StartsAboveTheStoredIds) {
  const TimePoint t = at_seconds(1764950000);
  IdSource source(first_id_at(t) + 100);  // stored by a clock that was ahead
  EXPECT_EQ(source.next(t), first_id_at(t) + 101);
}

}  // namespace
}  // namespace tern::modules::mam
