// Fuzzes the SASL2 <authenticate/> reader (XEP-0388, with Bind 2, FAST and
// XEP-0198 <resume/> inline) and the stored form of FAST tokens: the request is untrusted
// input from anyone who can open a stream, before authentication. Beyond
// not crashing, checks that a parsed request is within the limits the
// reader promises, and that a token set survives its document.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_support.h"
#include "xml/parse_element.h"
#include "xmpp/namespaces.h"
#include "stream/fast_tokens.h"
#include "stream/sasl2_request.h"

using tern::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tern::stream;
  const std::string text(reinterpret_cast<const char*>(data), size);
  (void)decode_fast_tokens(text, "secret", "fast:k");
  auto element = tern::xml::parse_element(text, tern::ns::kClient);
  if (!element) return 0;
  auto parsed = parse_sasl2_authenticate(*element);
  if (!parsed.request) return 0;
  const auto& r = *parsed.request;
  check(!r.mechanism.empty());
  check(r.user_agent_id.size() <= 128);
  if (r.bind) check(r.bind->tag.size() <= 128);
  // <resume/> is read only from its own namespace, and only what was sent.
  if (r.resume) {
    const auto* resume = element->child("resume", "urn:xmpp:sm:3");
    check(resume && r.resume->previd == resume->attr_or("previd"));
    check(!r.resume->h || !resume->attr_or("h").empty());
  }
  FastTokenSet set{r.mechanism, "c", {{r.user_agent_id + "x", 42}}};
  auto back = decode_fast_tokens(encode_fast_tokens(set, "secret", "fast:k"), "secret", "fast:k");
  check(back && back->tokens.size() == 1 && back->tokens[0].token == set.tokens[0].token);
  return 0;
}
