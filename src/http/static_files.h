// The web chat page and its assets, served from a directory: which file a
// request path names (never one outside the directory), its content type
// and how long browsers may cache it.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace tern::http {

// `target` is the request target ("/dist/converse.min.js?v=1"). Returns the
// file under `root` it names, or nullopt for anything that is not a plain
// path below root: "..", "." or empty segments, backslashes, NUL, a
// percent-escape that decodes to one of those, or a symlink leading out.
// "/" and directories map to their index.html.
std::optional<std::filesystem::path> resolve_static(const std::filesystem::path& root,
                                                    std::string_view target);

// "text/html; charset=utf-8" for index.html and the like;
// "application/octet-stream" for what we do not know.
std::string_view content_type_of(const std::filesystem::path& file);

// Cache-Control for `file`: HTML is revalidated on every load (it names the
// assets and carries the config), assets are kept a day.
std::string_view cache_control_of(const std::filesystem::path& file);

}  // namespace tern::http
