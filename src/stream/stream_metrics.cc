#include "stream/stream_metrics.h"

#include <fmt/format.h>

namespace tern::stream {
namespace {

constexpr const char* kStreamNames[kStreamKinds] = {"tcp", "websocket", "bosh"};
constexpr const char* kStanzaNames[kStanzaKinds] = {"message", "presence", "iq"};

template <class Field>
std::uint64_t sum(const std::vector<ShardStreamCounters>& shards, Field field) {
  std::int64_t total = 0;
  for (const auto& s : shards) total += static_cast<std::int64_t>(field(s).load(std::memory_order_relaxed));
  return static_cast<std::uint64_t>(std::max<std::int64_t>(total, 0));
}

}  // namespace

std::string StreamMetrics::render() const {
  std::string out;
  out += "# HELP tern_sessions Open client streams by transport.\n# TYPE tern_sessions gauge\n";
  for (int k = 0; k < kStreamKinds; ++k)
    out += fmt::format("tern_sessions{{transport=\"{}\"}} {}\n", kStreamNames[k],
                       sum(shards_, [k](const auto& s) -> auto& { return s.open[k]; }));
  out += "# HELP tern_logins_total Successful SASL authentications by transport.\n"
         "# TYPE tern_logins_total counter\n";
  for (int k = 0; k < kStreamKinds; ++k)
    out += fmt::format("tern_logins_total{{transport=\"{}\"}} {}\n", kStreamNames[k],
                       sum(shards_, [k](const auto& s) -> auto& { return s.logins[k]; }));
  out += "# HELP tern_login_failures_total Failed SASL authentications by transport.\n"
         "# TYPE tern_login_failures_total counter\n";
  for (int k = 0; k < kStreamKinds; ++k)
    out += fmt::format("tern_login_failures_total{{transport=\"{}\"}} {}\n", kStreamNames[k],
                       sum(shards_, [k](const auto& s) -> auto& { return s.login_failures[k]; }));
  out += "# HELP tern_stanzas_in_total Stanzas received from bound clients by kind.\n"
         "# TYPE tern_stanzas_in_total counter\n";
  for (int k = 0; k < kStanzaKinds; ++k)
    out += fmt::format("tern_stanzas_in_total{{kind=\"{}\"}} {}\n", kStanzaNames[k],
                       sum(shards_, [k](const auto& s) -> auto& { return s.stanzas_in[k]; }));
  out += "# HELP tern_stanzas_out_total Stanzas delivered to client streams.\n"
         "# TYPE tern_stanzas_out_total counter\n";
  out += fmt::format("tern_stanzas_out_total {}\n",
                     sum(shards_, [](const auto& s) -> auto& { return s.stanzas_out; }));
  return out;
}

}  // namespace tern::stream
