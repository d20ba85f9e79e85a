// Fuzzes the XEP-0363 slot request reader and the URL path of an upload:
// the request is untrusted input from any local account, the path from
// anyone on the HTTP listener. Beyond not crashing, checks that an accepted
// request's name survives the trip through its URL and its metadata file,
// and that no accepted path names anything outside its upload directory.
//
// The fuzz targets link tern_xmpp and tern_sasl only (see CMakeLists.txt),
// so the module's protocol file is compiled in here.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_support.h"
#include "modules/upload/protocol.cc"
#include "xml/parse_element.h"
#include "xmpp/namespaces.h"

using tern::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tern::modules::upload;
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  if (auto path = parse_upload_path(text)) {
    check(is_slot_id(path->id));
    check(path->filename.find('/') == std::string::npos);
    check(path->filename != "." && path->filename != "..");
  }
  (void)parse_meta_text(text);

  auto element = tern::xml::parse_element(text, tern::ns::kClient);
  if (!element) return 0;
  auto parsed = parse_slot_request(*element);
  auto* request = std::get_if<SlotRequest>(&parsed);
  if (!request) return 0;
  check(request->size > 0);
  const std::string id(32, 'a');
  auto back = parse_upload_path(slot_url("", id, request->filename).substr(1));
  check(back && back->filename == request->filename);
  auto meta = parse_meta_text(to_meta_text({"a@b", request->filename, request->size,
                                            request->content_type, 1}));
  check(meta && meta->filename == request->filename && meta->size == request->size);
  return 0;
}
