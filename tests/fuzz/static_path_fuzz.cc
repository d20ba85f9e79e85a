// Fuzzes the web page's request-target resolution (resolve_static) against
// a real directory that holds the traps: a symlink to a directory outside,
// a symlink to a file outside, and a sibling directory whose name extends
// the root's ("<root>-evil", which a bare prefix check would let through).
// Property: whatever the target, the answer is nothing or a regular file
// strictly below the root, after every symlink is resolved.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "http/static_files.h"

namespace fs = std::filesystem;

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

void write(const fs::path& p) { std::ofstream(p) << "x"; }

struct Tree {
  fs::path base, root;
  Tree() {
    std::string tmpl = (fs::temp_directory_path() / "tern-static-fuzz-XXXXXX").string();
    base = mkdtemp(tmpl.data());
    root = base / "www";
    fs::create_directories(root / "dist");
    fs::create_directories(base / "www-evil");
    write(root / "index.html");
    write(root / "dist" / "a.js");
    write(root / "dist" / "index.html");
    write(base / "www-evil" / "secret.html");
    write(base / "outside.txt");
    fs::create_directory_symlink(base / "www-evil", root / "evil");
    fs::create_directory_symlink("..", root / "up");
    fs::create_symlink(base / "outside.txt", root / "link.txt");
  }
  ~Tree() {
    std::error_code ec;
    fs::remove_all(base, ec);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const Tree tree;
  static const std::string real_root = fs::canonical(tree.root).native() + "/";
  const std::string_view target(reinterpret_cast<const char*>(data), size);
  const auto file = tern::http::resolve_static(tree.root, target);
  if (!file) return 0;
  std::error_code ec;
  const auto real = fs::canonical(*file, ec).native();
  check(!ec);
  check(real.size() > real_root.size() && real.compare(0, real_root.size(), real_root) == 0);
  check(fs::is_regular_file(real, ec));
  return 0;
}
