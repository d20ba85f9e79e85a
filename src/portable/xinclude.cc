#include "portable/xinclude.h"

#include <algorithm>
#include <cctype>
#include <optional>

#include "core/percent_encoding.h"

namespace tern::portable {
namespace {

namespace fs = std::filesystem;

// RFC 3986 §3.1: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":" before any
// '/'. A relative path whose first segment has a colon is written "./a:b".
bool has_scheme(std::string_view href) {
  const std::size_t colon = href.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon > href.find('/')) return false;
  if (!std::isalpha(static_cast<unsigned char>(href[0]))) return false;
  return std::all_of(href.begin() + 1, href.begin() + colon, [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
  });
}


bool is_inside(const fs::path& path, const fs::path& dir) {
  auto [d, p] = std::mismatch(dir.begin(), dir.end(), path.begin(), path.end());
  return d == dir.end();
}

IncludeTarget failure(std::string why) { return IncludeTarget{{}, std::move(why)}; }

}  // namespace

IncludeTarget resolve_include(std::string_view href, const fs::path& base_dir,
                              const fs::path& export_dir) {
  const std::string quoted = "href='" + std::string(href) + "'";
  if (href.empty())
    return failure("<xi:include/> without href (same-document includes are not supported)");
  if (has_scheme(href)) return failure(quoted + " is a URL: only relative file paths are included");
  if (href.find_first_of("?#") != std::string_view::npos)
    return failure(quoted + ": a query or fragment is not supported");
  const std::optional<std::string> decoded = core::percent_decode(href);
  if (!decoded || decoded->find('\0') != std::string::npos)
    return failure(quoted + ": a malformed %-escape, or an escaped NUL");
  if (decoded->starts_with('/'))
    return failure(quoted +
                   " is an absolute path: only paths relative to the including file are followed");
  std::error_code ec;
  const fs::path path = fs::canonical(base_dir / *decoded, ec);
  if (ec) return failure("cannot open " + (base_dir / *decoded).string() + ": " + ec.message());
  if (!is_inside(path, export_dir))
    return failure(quoted + " leads to " + path.string() + ", outside " + export_dir.string() +
                   " (the directory of the imported file)");
  // A FIFO or device would block or never end.
  if (!fs::is_regular_file(path, ec)) return failure(path.string() + " is not a regular file");
  return IncludeTarget{path, {}};
}

}  // namespace tern::portable
