// Fuzzes what `tern import` reads from another server's export: the
// streaming XEP-0227 reader over the input as a file's text, and the input
// as an <xi:include href/> resolved in a directory that holds the traps (a
// symlink out, a sibling directory whose name extends the export's, a
// nested directory). Beyond not crashing: every user handed on is a <user/>
// element, and an include resolves to nothing or to a regular file
// strictly inside the export directory, symlinks resolved.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "fuzz_support.h"
#include "portable/reader.h"
#include "portable/xinclude.h"

namespace fs = std::filesystem;
using tern::fuzz::check;

namespace {

struct Tree {
  tern::fuzz::ScratchDir dir{"tern-import-fuzz"};
  fs::path export_dir = dir.path() / "export";
  fs::path nested = export_dir / "users";
  Tree() {
    for (const char* f : {"export/host.xml", "export/users/alice.xml", "export-evil/x.xml", "outside.xml"})
      dir.write(f, "<host/>");
    fs::create_directory_symlink(dir.path() / "export-evil", export_dir / "evil");
    fs::create_symlink(dir.path() / "outside.xml", export_dir / "link.xml");
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const Tree tree;
  static const std::string inside = tree.export_dir.native() + "/";
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  (void)tern::portable::read_portable_text(text, [](const std::string&, tern::xml::Element user) {
    check(user.name() == "user");
  });

  for (const auto& from : {tree.export_dir, tree.nested}) {
    const auto target = tern::portable::resolve_include(text, from, tree.export_dir);
    if (target.path.empty()) continue;
    std::error_code ec;
    const auto real = fs::canonical(target.path, ec).native();
    check(!ec && real.size() > inside.size() && real.compare(0, inside.size(), inside) == 0);
    check(fs::is_regular_file(real, ec));
  }
  return 0;
}
