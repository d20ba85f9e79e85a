// Fuzzes the web page's request-target resolution (resolve_static) against
// a real directory that holds the traps: a symlink to a directory outside,
// a symlink to a file outside, and a sibling directory whose name extends
// the root's ("<root>-evil", which a bare prefix check would let through).
// Property: whatever the target, the answer is nothing or a regular file
// strictly below the root, after every symlink is resolved.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "fuzz_support.h"
#include "http/static_files.h"

namespace fs = std::filesystem;
using tern::fuzz::check;

namespace {

struct Tree {
  tern::fuzz::ScratchDir dir{"tern-static-fuzz"};
  fs::path root = dir.path() / "www";
  Tree() {
    for (const char* f : {"www/index.html", "www/dist/a.js", "www/dist/index.html",
                          "www-evil/secret.html", "outside.txt"})
      dir.write(f);
    fs::create_directory_symlink(dir.path() / "www-evil", root / "evil");
    fs::create_directory_symlink("..", root / "up");
    fs::create_symlink(dir.path() / "outside.txt", root / "link.txt");
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const Tree tree;
  static const std::string inside = tree.root.native() + "/";
  const std::string_view target(reinterpret_cast<const char*>(data), size);
  const auto file = tern::http::resolve_static(tree.root, target);
  if (!file) return 0;
  std::error_code ec;
  const auto real = fs::canonical(*file, ec).native();
  check(!ec);
  check(real.size() > inside.size() && real.compare(0, inside.size(), inside) == 0);
  check(fs::is_regular_file(real, ec));
  return 0;
}
