// Fuzzes the pubsub request parser (every <pubsub/> a client sends to PEP or
// the pubsub service) and the node configuration forms inside it. Beyond
// not crashing: a parsed publish has exactly one item; retract names ids;
// a configuration the form yields survives the store's round trip, and so
// do subscription options (XEP-0060 §6.3) the same form yields.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <variant>

#include "fuzz_support.h"
#include "modules/pubsub/node_config.h"
#include "modules/pubsub/request.h"
#include "modules/pubsub/subscription_options.h"
#include "xml/parse_element.h"
#include "xmpp/namespaces.h"

using tern::fuzz::check;

namespace {

constexpr std::size_t kLimit = 256;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tern::modules::pubsub;
  if (size == 0) return 0;
  const bool is_set = data[0] & 1;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  auto x = tern::xml::parse_element(text, tern::ns::kClient);
  if (!x) return 0;
  auto parsed = parse_request(*x, is_set);
  auto* r = std::get_if<Request>(&parsed);
  if (!r) return 0;
  if (r->action == Action::kPublish) check(r->items.size() == 1 && !r->node.empty());
  if (r->action == Action::kRetract) {
    check(!r->items.empty());
    for (const auto& i : r->items) check(!i.id.empty());
  }
  if (r->form) {
    NodeConfig config = default_config(true);
    if (!apply_form(config, *r->form, kLimit)) {
      check(effective_max_items(config, kLimit) <= kLimit);
      auto stored = deserialize(serialize(config));
      check(stored.has_value() && *stored == config);
      (void)meets_preconditions(config, *r->form, kLimit);
    }
    SubscriptionOptions options;
    if (!apply_form(options, *r->form)) check(deserialize_options(serialize(options)) == options);
  }
  return 0;
}
