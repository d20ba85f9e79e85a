// Fuzzes the PEP conversions that read what clients publish or send: the
// bookmarks in their XEP-0048 and XEP-0402 forms, entity capabilities
// (XEP-0115) of presences and disco#info results, vCard ↔ vCard4, and
// avatars (XEP-0084 / XEP-0153). Beyond not crashing: bookmarks survive a
// round trip through either form unchanged, an avatar's id is 40 hex
// digits, and a photo put into a vCard reads back the same.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "fuzz_support.h"
#include "modules/pep/avatar.h"
#include "modules/pep/bookmarks.h"
#include "modules/pep/caps.h"
#include "modules/pep/vcard4.h"
#include "xml/parse_element.h"
#include "xml/serializer.h"
#include "xmpp/namespaces.h"

using tern::fuzz::check;

namespace {

using namespace tern::modules::pep;
using tern::xml::Element;

void bookmarks_round_trip(const Element& el) {
  std::vector<Element> urls, urls_again;
  const auto marks = bookmarks::from_storage(el, &urls);
  check(bookmarks::from_storage(bookmarks::to_storage(marks, urls), &urls_again) == marks);
  check(urls_again == urls);
  for (const auto& b : marks) {
    const auto again = bookmarks::from_item(b.jid, bookmarks::to_conference(b));
    check(again && *again == b);
  }
  if (auto b = bookmarks::from_item("room@muc.example.org", el)) {
    const auto again = bookmarks::from_item(b->jid, bookmarks::to_conference(*b));
    check(again && *again == *b);
  }
}

void caps(const Element& el) {
  if (auto ref = caps_of(el)) (void)ref->key();
  const auto s = verification_string(el);
  for (const char* hash : {"sha-1", "sha-256", "md5"}) (void)caps_hash(hash, s);
}

void vcards(const Element& el) {
  const auto v4 = vcard4::with_fields_of_vcard_temp(el, std::nullopt);
  (void)vcard4::with_fields_of_vcard4(v4, el);
  (void)vcard4::with_fields_of_vcard4(el, std::nullopt);
  (void)vcard4::has_no_fields(el);
}

void avatars(const Element& el) {
  (void)avatar::metadata_info(el);
  auto photo = avatar::photo_of(el);
  if (!photo) return;
  std::size_t bytes = 0;
  if (auto id = avatar::image_id(photo->base64, &bytes)) {
    check(id->size() == 40 && id->find_first_not_of("0123456789abcdef") == std::string::npos);
    check(avatar::vcard_photo_hash(tern::xml::to_string(el, "")) == id);
  }
  const auto again = avatar::photo_of(avatar::with_photo(el, photo));
  check(again && again->type == photo->type && again->base64 == photo->base64);
  Element presence("presence", tern::ns::kClient);
  presence.add_child(el);
  avatar::apply_photo_hash(presence, std::string(40, 'a'), std::string(40, 'b'));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto el = tern::xml::parse_element(text, tern::ns::kClient);
  if (!el) return 0;
  bookmarks_round_trip(*el);
  caps(*el);
  vcards(*el);
  avatars(*el);
  return 0;
}
