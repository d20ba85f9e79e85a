// XEP-0202 entity time, for the server's domain.
#include "modules/time/time.h"

#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "modules/options.h"
#include "xmpp/datetime.h"

namespace tern::modules {
namespace entity_time {

std::string format_tzo(long offset_seconds) {
  const char sign = offset_seconds < 0 ? '-' : '+';
  // Real offsets stay within a day; anything else is clamped, not printed.
  const int minutes = static_cast<int>(std::min(std::labs(offset_seconds), 24L * 3600 - 1) / 60);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%c%02d:%02d", sign, minutes / 60, minutes % 60);
  return buf;
}

long local_offset(std::chrono::system_clock::time_point t) {
  const time_t tt = std::chrono::system_clock::to_time_t(t);
  struct tm tm {};
  if (::localtime_r(&tt, &tm) == nullptr) return 0;
  return tm.tm_gmtoff;
}

xml::Element time_result(std::chrono::system_clock::time_point t, long offset_seconds) {
  xml::Element time("time", std::string(kNs));
  time.add_child("tzo").add_text(format_tzo(offset_seconds));
  time.add_child("utc").add_text(xmpp::format_datetime(t));
  return time;
}

}  // namespace entity_time

std::unique_ptr<Module> start_time(ModuleContext& ctx) {
  read_no_options("time", ctx.options);
  auto m = std::make_unique<Module>();
  m->tokens.push_back(ctx.serve_iq_sync(
      {router::IqTarget::kServer, router::IqType::kGet, entity_time::kNs, "time",
       Advertise::kOnServer},
      [](const router::IqRequest&) {
        // The offset is looked up each time: it changes with daylight saving.
        const auto now = std::chrono::system_clock::now();
        return router::IqReply::result(entity_time::time_result(now, entity_time::local_offset(now)));
      }));
  return m;
}

TERN_MODULE("time", "XEP-0202 entity time", &start_time, 50);

}  // namespace tern::modules
