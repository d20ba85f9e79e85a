// Fuzzes the vCard an owner sets on a room (XEP-0486 room avatars). Beyond
// not crashing: an accepted avatar has one 40-hex-digit hash per PHOTO it
// keeps, stays within the size limit, keeps nothing but PHOTOs, and reads
// back from its stored form with the same hashes.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <variant>

#include "fuzz_support.h"
#include "modules/muc/room.h"
#include "xml/parse_element.h"
#include "xml/serializer.h"
#include "xmpp/namespaces.h"

using tern::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tern::modules::muc;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto vcard = tern::xml::parse_element(text, tern::ns::kClient);
  if (!vcard) return 0;
  auto read = read_avatar(*vcard, 4096);
  auto* avatar = std::get_if<std::optional<RoomAvatar>>(&read);
  if (!avatar || !*avatar) return 0;
  const auto& kept = (*avatar)->vcard;
  check(kept.children().size() == (*avatar)->hashes.size());
  for (const auto* child : kept.children()) check(child->name() == "PHOTO");
  for (const auto& hash : (*avatar)->hashes) check(hash.size() == 40);
  auto again = stored_avatar(tern::xml::to_string(kept, tern::ns::kClient));
  check(again && again->hashes == (*avatar)->hashes);
  return 0;
}
