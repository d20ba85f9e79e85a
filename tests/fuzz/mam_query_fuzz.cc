// Fuzzes the MAM query reader (XEP-0313 form, XEP-0059 RSM, flip-page), the
// XEP-0082 date parser and the archive id decoder: untrusted input from any
// authenticated client. Beyond not crashing (UBSan catches overflow in the
// date arithmetic), checks that an accepted id re-encodes to its text and
// that a parsed query becomes a storage query with sane bounds.
//
// The fuzz targets link tern_xmpp only (see CMakeLists.txt), so the two
// module files the reader is made of are compiled in here.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_support.h"
#include "modules/mam/archive_id.cc"
#include "modules/mam/query.cc"
#include "xml/parse_element.h"
#include "xmpp/namespaces.h"

using tern::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tern::modules::mam;
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  if (auto id = decode_id(text)) {
    check(*id > 0);
    check(encode_id(*id) == text);
  }
  if (auto t = parse_datetime(text)) {
    const auto id = first_id_at(*t);
    check(id >= 0);
  }

  auto element = tern::xml::parse_element(text, tern::ns::kClient);
  if (!element) return 0;
  auto parsed = parse_query(*element);
  if (auto* req = std::get_if<ArchiveRequest>(&parsed)) {
    const auto q = to_storage_query(*req, 50);
    check(q.after >= 0);
    check(q.limit == 50);
    for (auto id : req->named_ids()) check(id > 0);
  }
  return 0;
}
