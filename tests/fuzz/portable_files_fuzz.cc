// Fuzzes what `tern import` reads from another server's export: the
// streaming XEP-0227 reader over the input as a file's text, and the input
// as an <xi:include href/> resolved in a directory that holds the traps (a
// symlink out, a sibling directory whose name extends the export's, a
// nested directory). Beyond not crashing: every user handed on is a <user/>
// element, and an include resolves to nothing or to a regular file
// strictly inside the export directory, symlinks resolved.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "portable/reader.h"
#include "portable/xinclude.h"

namespace fs = std::filesystem;

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

void write(const fs::path& p) { std::ofstream(p) << "<host/>"; }

struct Tree {
  fs::path base, export_dir, nested;
  Tree() {
    std::string tmpl = (fs::temp_directory_path() / "tern-import-fuzz-XXXXXX").string();
    base = fs::canonical(mkdtemp(tmpl.data()));
    export_dir = base / "export";
    nested = export_dir / "users";
    fs::create_directories(nested);
    fs::create_directories(base / "export-evil");
    write(export_dir / "host.xml");
    write(nested / "alice.xml");
    write(base / "export-evil" / "x.xml");
    write(base / "outside.xml");
    fs::create_directory_symlink(base / "export-evil", export_dir / "evil");
    fs::create_symlink(base / "outside.xml", export_dir / "link.xml");
  }
  ~Tree() {
    std::error_code ec;
    fs::remove_all(base, ec);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const Tree tree;
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  (void)tern::portable::read_portable_text(text, [](const std::string&, tern::xml::Element user) {
    check(user.name() == "user");
  });

  for (const auto& from : {tree.export_dir, tree.nested}) {
    const auto target = tern::portable::resolve_include(text, from, tree.export_dir);
    if (target.path.empty()) continue;
    const std::string inside = tree.export_dir.native() + "/";
    std::error_code ec;
    const auto real = fs::canonical(target.path, ec).native();
    check(!ec && real.size() > inside.size() && real.compare(0, inside.size(), inside) == 0);
    check(fs::is_regular_file(real, ec));
  }
  return 0;
}
