// Which file an <xi:include href='…'/> in a XEP-0227 export names.
//
// XEP-0227 lets an exporter split its document with XInclude: ejabberd's
// `export_piefxis DIR` writes a main file that includes one file per host,
// and the XEP's own layout adds one file per user below that. An export
// comes from another server and `tern import` may run as root, so an include
// is followed only to a regular file inside the directory of the file given
// to `tern import` (the export directory) — every layout in use fits that:
// - href is a relative path. It is a URI reference, so %XX escapes are
//   decoded; a scheme (http:, file:, …), a query, a fragment or an absolute
//   path is refused;
// - it is resolved against the including file's directory and, symlinks
//   followed, must stay inside the export directory ('..' that stays inside
//   is fine, so is a symlink whose target is inside).
// Nesting depth and include loops are the reader's business.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace tern::portable {

struct IncludeTarget {
  std::filesystem::path path;  // canonical; empty on error
  std::string error;
};

// `base_dir` and `export_dir` are canonical directories.
IncludeTarget resolve_include(std::string_view href, const std::filesystem::path& base_dir,
                              const std::filesystem::path& export_dir);

}  // namespace tern::portable
