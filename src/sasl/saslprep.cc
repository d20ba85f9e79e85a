// SASLprep (RFC 4013) through libidn's stringprep, plus the UTF-8 check that
// has to come first: libidn takes C strings and its own decoding of bad
// UTF-8 is not something the protocol edge should rely on.
#include <stringprep.h>

#include <cstdlib>

#include "sasl/internal.h"
#include "sasl/mechanism.h"

namespace tern::sasl {
namespace {

std::optional<std::string> prepare(std::string_view s, Stringprep_profile_flags flags) {
  if (!internal::is_utf8_without_nul(s)) return std::nullopt;
  const std::string in(s);  // NUL-terminated copy for the C API
  char* out = nullptr;
  if (stringprep_profile(in.c_str(), &out, "SASLprep", flags) != STRINGPREP_OK) {
    std::free(out);  // NULL on failure in current libidn; free(NULL) is harmless
    return std::nullopt;
  }
  std::string result(out);
  std::free(out);  // libidn allocates with malloc
  return result;
}

}  // namespace

namespace internal {

bool is_utf8_without_nul(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    if (b0 == 0) return false;
    if (b0 < 0x80) {
      ++i;
      continue;
    }
    std::size_t len;
    char32_t cp;
    char32_t min;
    if ((b0 & 0xe0) == 0xc0) {
      len = 2, cp = b0 & 0x1f, min = 0x80;
    } else if ((b0 & 0xf0) == 0xe0) {
      len = 3, cp = b0 & 0x0f, min = 0x800;
    } else if ((b0 & 0xf8) == 0xf0) {
      len = 4, cp = b0 & 0x07, min = 0x10000;
    } else {
      return false;  // continuation byte in lead position, or 0xf8..0xff
    }
    if (s.size() - i < len) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (b & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += len;
  }
  return true;
}

std::optional<std::string> saslprep_query(std::string_view s) {
  return prepare(s, static_cast<Stringprep_profile_flags>(0));
}

}  // namespace internal

std::optional<std::string> saslprep(std::string_view s) {
  return prepare(s, STRINGPREP_NO_UNASSIGNED);
}

}  // namespace tern::sasl
