// Fuzzes the XEP-0357 <enable/>/<disable/> reader and the stored form of
// registrations: <enable/> is untrusted input from any authenticated
// client, and what it accepts is written to storage and read back for every
// notification. Beyond not crashing, checks that an accepted registration
// survives the round trip through its document with its node and options,
// and that a publish can be built for it.
//
// The fuzz targets link tern_xmpp only (see CMakeLists.txt), so the
// module's protocol file is compiled in here.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_support.h"
#include "modules/push/protocol.cc"
#include "xml/parse_element.h"
#include "xmpp/namespaces.h"

using tern::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tern::modules::push;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)from_document(text);

  auto element = tern::xml::parse_element(text, tern::ns::kClient);
  if (!element) return 0;
  (void)parse_disable(*element);
  auto parsed = parse_enable(*element);
  auto* r = std::get_if<Registration>(&parsed);
  if (!r) return 0;
  const auto back = from_document(to_document({*r}));
  check(back.size() == 1);
  check(back[0].node == r->node);
  check(back[0].publish_options.has_value() == r->publish_options.has_value());
  const auto account = tern::xmpp::Jid::from_parts("a", "example.org");
  const auto iq = build_publish(account, *r, Summary{"b@example.org", std::nullopt}, "id");
  check(iq.attr_or("to") == r->jid);
  return 0;
}
