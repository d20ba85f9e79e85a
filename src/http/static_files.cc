#include "http/static_files.h"

#include <array>
#include <system_error>
#include <utility>

#include "core/percent_encoding.h"

namespace tern::http {

namespace fs = std::filesystem;

std::optional<fs::path> resolve_static(const fs::path& root, std::string_view target) {
  auto query = target.find_first_of("?#");
  if (query != std::string_view::npos) target = target.substr(0, query);
  if (target.empty() || target.front() != '/') return std::nullopt;
  auto decoded = core::percent_decode(target.substr(1));
  if (!decoded) return std::nullopt;
  fs::path file = root;
  std::string_view rest = *decoded;
  while (!rest.empty()) {
    auto slash = rest.find('/');
    std::string_view segment = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    if (segment.empty() && rest.empty()) break;  // a trailing slash
    if (segment.empty() || segment == "." || segment == ".." ||
        segment.find_first_of(std::string_view("\\\0:", 3)) != std::string_view::npos)
      return std::nullopt;
    file /= std::string(segment);
  }
  std::error_code ec;
  if (fs::is_directory(file, ec)) file /= "index.html";
  if (!fs::is_regular_file(file, ec)) return std::nullopt;
  // A symlink inside the tree must not lead out of it.
  auto real = fs::canonical(file, ec);
  auto real_root = fs::canonical(root, ec);
  if (ec) return std::nullopt;
  auto r = real.native(), rr = real_root.native();
  if (r.size() <= rr.size() || r.compare(0, rr.size(), rr) != 0 || r[rr.size()] != '/')
    return std::nullopt;
  return real;
}

std::string_view content_type_of(const fs::path& file) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 20> kTypes{{
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".gif", "image/gif"},
      {".ico", "image/x-icon"},
      {".webp", "image/webp"},
      {".woff", "font/woff"},
      {".woff2", "font/woff2"},
      {".ttf", "font/ttf"},
      {".mp3", "audio/mpeg"},
      {".ogg", "audio/ogg"},
      {".wasm", "application/wasm"},
      {".txt", "text/plain; charset=utf-8"},
  }};
  const std::string ext = file.extension().string();
  for (const auto& [e, type] : kTypes)
    if (e == ext) return type;
  return "application/octet-stream";
}

std::string_view cache_control_of(const fs::path& file) {
  if (file.extension() == ".html") return "no-cache";
  return "public, max-age=86400";
}

}  // namespace tern::http
