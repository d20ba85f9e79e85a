// XEP-0082 DateTime as written on the wire.
#include "xmpp/datetime.h"

#include <gtest/gtest.h>

namespace tern::xmpp {
namespace {

using namespace std::chrono;

system_clock::time_point at(int y, unsigned mo, unsigned d, int h, int mi, int s) {
  return sys_days{year{y} / month{mo} / day{d}} + hours{h} + minutes{mi} + seconds{s};
}

TEST(DateTime, IsUtcWithZ) {
  EXPECT_EQ(format_datetime(at(2002, 9, 10, 23, 8, 25)), "2002-09-10T23:08:25Z");
  EXPECT_EQ(format_datetime(at(2024, 3, 1, 9, 5, 7)), "2024-03-01T09:05:07Z");
  EXPECT_EQ(format_datetime(system_clock::time_point{seconds{1795284000}}), "2026-11-21T18:00:00Z");
  EXPECT_EQ(format_datetime(system_clock::time_point{}), "1970-01-01T00:00:00Z");
}

TEST(DateTime, DropsFractionsOfSecondsByFlooring) {
  EXPECT_EQ(format_datetime(at(1999, 12, 31, 23, 59, 59) + milliseconds{999}),
            "1999-12-31T23:59:59Z");
  EXPECT_EQ(format_datetime(system_clock::time_point{} - milliseconds{1}), "1969-12-31T23:59:59Z");
}

}  // namespace
}  // namespace tern::xmpp
