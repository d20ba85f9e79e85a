#include "xmpp/datetime.h"

#include <cstdio>
#include <ctime>

namespace tern::xmpp {

std::string format_datetime(std::chrono::system_clock::time_point t) {
  const auto secs = std::chrono::floor<std::chrono::seconds>(t.time_since_epoch());
  const std::time_t tt = static_cast<std::time_t>(secs.count());
  std::tm utc{};
  ::gmtime_r(&tt, &utc);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec);
  return buf;
}

void add_delay(xml::Element& stanza, const std::string& from, std::chrono::system_clock::time_point t) {
  xml::Element delay("delay", kDelayNs);
  delay.set_attr("from", from);
  delay.set_attr("stamp", format_datetime(t));
  stanza.add_child(std::move(delay));
}

}  // namespace tern::xmpp
