// Fuzzes the muc#roomconfig form parser (what a room owner submits, and the
// stored form of a persistent room). Beyond not crashing: a form that is
// accepted yields a configuration within the service's bounds, and that
// configuration survives the store's round trip unchanged.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_support.h"
#include "modules/muc/config_form.h"
#include "xml/parse_element.h"
#include "xmpp/namespaces.h"

using tern::fuzz::check;

namespace {

constexpr int kMaxHistory = 100;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tern::modules::muc;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto x = tern::xml::parse_element(text, tern::ns::kClient);
  if (!x) return 0;
  RoomConfig config;
  const RoomConfig before = config;
  if (apply_config_form(*x, config, kMaxHistory)) {
    check(config == before);  // a refused form changes nothing
    return 0;
  }
  check(config.history_length >= 0 && config.history_length <= kMaxHistory);
  check(config.max_users >= 0);
  check(!config.password_protected || !config.password.empty());
  auto stored = parse_stored_config(stored_config(config, "salt"), kMaxHistory);
  check(stored.has_value());
  check(stored->first == config);
  check(stored->second == "salt");
  return 0;
}
