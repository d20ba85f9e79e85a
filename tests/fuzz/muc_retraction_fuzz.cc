// Fuzzes what an occupant or a moderator sends to retract or moderate a
// room message (XEP-0424, XEP-0425). Beyond not crashing: a request that is
// accepted names a message, the notice built from it carries that id in
// both forms, and a tombstone never keeps a <body/>.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <variant>

#include "fuzz_support.h"
#include "modules/muc/retraction.h"
#include "xml/parse_element.h"
#include "xmpp/namespaces.h"

using tern::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tern::modules::muc;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto x = tern::xml::parse_element(text, tern::ns::kClient);
  if (!x) return 0;
  if (auto id = retracted_id(*x)) check(!id->empty());
  auto parsed = parse_moderation(*x);
  if (auto* request = std::get_if<ModerationRequest>(&parsed)) {
    check(is_moderation(*x));
    check(!request->id.empty());
    auto notice = moderation_message("room@muc.example", *request, "room@muc.example/mod", "occ");
    check(retracted_id(notice) == request->id);
    const auto* apply = notice.child("apply-to", kFastenNs);
    check(apply && apply->attr_or("id") == request->id);
  }
  auto t = tombstone(*x, retracted_by_sender("2026-01-01T00:00:00Z", ""));
  check(t.child("body") == nullptr);
  check(t.child("retracted", kRetractNs) != nullptr);
  return 0;
}
