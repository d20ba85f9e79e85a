#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <string_view>

#include "modules/offline/offline.h"
#include "xml/parse_element.h"
#include "xmpp/datetime.h"
#include "xml/serializer.h"
#include "xmpp/namespaces.h"

namespace tern::modules::offline {
namespace {

using namespace std::chrono;

system_clock::time_point at(int y, unsigned mo, unsigned d, int h, int mi, int s) {
  return sys_days{year{y} / month{mo} / day{d}} + hours{h} + minutes{mi} + seconds{s};
}

TEST(DelayStamp, IsUtcIso8601WithZ) {
  EXPECT_EQ(xmpp::format_datetime(at(2002, 9, 10, 23, 8, 25)), "2002-09-10T23:08:25Z");
  EXPECT_EQ(xmpp::format_datetime(at(2024, 3, 1, 9, 5, 7)), "2024-03-01T09:05:07Z");
}

// Run again by ctest under TZ=Asia/Kolkata (UTC+05:30): there the zone must
// really be in force, or that run would prove nothing.
TEST(DelayStamp, TimeZoneOfTheRunIsInForce) {
  const char* tz = std::getenv("TZ");
  if (!tz || std::string_view(tz) != "Asia/Kolkata") GTEST_SKIP() << "TZ is not Asia/Kolkata";
  tzset();
  std::time_t t = 0;
  std::tm local{};
  localtime_r(&t, &local);
  EXPECT_EQ(local.tm_gmtoff, 5 * 3600 + 30 * 60) << "tzdata for Asia/Kolkata missing?";
}

TEST(DelayStamp, NowIsUtcNotLocalTime) {
  const auto now = system_clock::now();
  const std::time_t secs = system_clock::to_time_t(now);
  std::tm utc{};
  gmtime_r(&secs, &utc);
  char expected[32];
  std::strftime(expected, sizeof expected, "%Y-%m-%dT%H:%M:%SZ", &utc);
  EXPECT_EQ(xmpp::format_datetime(system_clock::from_time_t(secs)), expected);
}

TEST(DelayStamp, DropsFractionsOfSeconds) {
  EXPECT_EQ(xmpp::format_datetime(at(1999, 12, 31, 23, 59, 59) + milliseconds{999}), "1999-12-31T23:59:59Z");
}

TEST(Delay, AddsDelayElement) {
  xml::Element m("message", "jabber:client");
  m.add_child("body").add_text("hi");
  xmpp::add_delay(m, "localhost", at(2002, 9, 10, 23, 8, 25));
  const auto* delay = m.child("delay", xmpp::kDelayNs);
  ASSERT_NE(delay, nullptr);
  EXPECT_EQ(delay->attr_or("from"), "localhost");
  EXPECT_EQ(delay->attr_or("stamp"), "2002-09-10T23:08:25Z");
}

xml::Element message(std::string_view type) {
  xml::Element m("message", "jabber:client");
  if (!type.empty()) m.set_attr("type", type);
  m.add_child("body").add_text("hi");
  return m;
}

TEST(Classify, StoresChatNormalAndUntyped) {
  EXPECT_EQ(classify(message("chat")), Disposition::kStore);
  EXPECT_EQ(classify(message("normal")), Disposition::kStore);
  EXPECT_EQ(classify(message("")), Disposition::kStore);
}

TEST(Classify, LeavesHeadlineGroupchatErrorToTheRouter) {
  EXPECT_EQ(classify(message("headline")), Disposition::kNotOurs);
  EXPECT_EQ(classify(message("groupchat")), Disposition::kNotOurs);
  EXPECT_EQ(classify(message("error")), Disposition::kNotOurs);
}

TEST(Classify, HonoursNoStoreHint) {
  auto m = message("chat");
  m.add_child(xml::Element("no-store", kHintsNs));
  EXPECT_EQ(classify(m), Disposition::kNotOurs);
}

TEST(Classify, DiscardsChatStatesOnly) {
  xml::Element m("message", "jabber:client");
  m.set_attr("type", "chat");
  m.add_child(xml::Element("composing", kChatStatesNs));
  EXPECT_EQ(classify(m), Disposition::kDiscard);
  m.add_child(xml::Element("x", "jabber:x:data"));  // some other payload: kept
  EXPECT_EQ(classify(m), Disposition::kStore);
}

TEST(ParseStored, RoundTrips) {
  auto m = message("chat");
  m.set_attr("from", "romeo@montague.net/orchard");
  m.set_attr("to", "juliet@capulet.com");
  xmpp::add_delay(m, "capulet.com", at(2002, 9, 10, 23, 8, 25));
  auto back = xml::parse_element(xml::to_string(m, ns::kClient), ns::kClient);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, m);
}

TEST(ParseStored, RejectsGarbage) {
  EXPECT_FALSE(xml::parse_element("<message", ns::kClient));
  EXPECT_FALSE(xml::parse_element("<a/><b/>", ns::kClient));
}

}  // namespace
}  // namespace tern::modules::offline
