// XEP-0202 / XEP-0082: how times and offsets are written.
#include "modules/time/time.h"

#include <gtest/gtest.h>

#include "xml/serializer.h"

namespace tern::modules {
namespace {

using namespace std::chrono;

TEST(EntityTimeTzo, SignHoursMinutes) {
  EXPECT_EQ(entity_time::format_tzo(0), "+00:00");
  EXPECT_EQ(entity_time::format_tzo(2 * 3600), "+02:00");
  EXPECT_EQ(entity_time::format_tzo(-(5 * 3600 + 30 * 60)), "-05:30");
  EXPECT_EQ(entity_time::format_tzo(5 * 3600 + 45 * 60), "+05:45");
  EXPECT_EQ(entity_time::format_tzo(-12 * 3600), "-12:00");
  EXPECT_EQ(entity_time::format_tzo(14 * 3600), "+14:00");
}

TEST(EntityTimeResult, TzoThenUtc) {
  system_clock::time_point t{seconds{1795284000}};
  EXPECT_EQ(xml::to_string(entity_time::time_result(t, 3600), ""),
            "<time xmlns='urn:xmpp:time'><tzo>+01:00</tzo><utc>2026-11-21T18:00:00Z</utc></time>");
}

TEST(EntityTimeLocalOffset, WithinAValidRange) {
  long off = entity_time::local_offset(system_clock::now());
  EXPECT_GE(off, -12 * 3600);
  EXPECT_LE(off, 14 * 3600);
}

}  // namespace
}  // namespace tern::modules
