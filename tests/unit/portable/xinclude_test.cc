// XInclude in XEP-0227 files: split exports read as one document, and the
// includes that must not be followed.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "portable/reader.h"
#include "portable/xinclude.h"
#include "storage/temp_dir.h"

namespace tern::portable {
namespace {

namespace fs = std::filesystem;
using storage::testing::TempDir;

constexpr std::string_view kXi = "xmlns:xi='http://www.w3.org/2001/XInclude'";

class XInclude : public ::testing::Test {
 protected:
  // Writes `text` to `name` under the export directory, parents made.
  std::string write(const std::string& name, std::string_view text) {
    const fs::path path = dir_.path() / "export" / name;
    fs::create_directories(path.parent_path());
    std::ofstream(path) << text;
    return path.string();
  }

  // A main file whose <server-data/> holds `body`.
  std::string main_file(std::string_view body) {
    return write("main.xml", "<?xml version='1.0'?>\n<server-data xmlns='urn:xmpp:pie:0' " +
                                 std::string(kXi) + ">\n" + std::string(body) +
                                 "\n</server-data>\n");
  }

  static std::string host_file(std::string_view jid, std::string_view body) {
    return "<host xmlns='urn:xmpp:pie:0' " + std::string(kXi) + " jid='" + std::string(jid) + "'>" +
           std::string(body) + "</host>";
  }

  // Reads `path`; users as "name@host", in order.
  std::string read(const std::string& path, std::vector<std::string>* users = nullptr,
                   ReadStats* stats = nullptr) {
    std::vector<std::string> local;
    std::vector<std::string>& out = users ? *users : local;
    return read_portable_file(
        path,
        [&](const std::string& host, xml::Element user) {
          out.push_back(std::string(user.attr_or("name")) + "@" + host);
        },
        stats);
  }

  fs::path canonical_export() const { return fs::canonical(dir_.path() / "export"); }

  TempDir dir_;
};

// ejabberd's export_piefxis: the main file includes one file per host.
TEST_F(XInclude, ReadsAMainFileThatIncludesHostFiles) {
  const std::string a = host_file("a.lit", "<user name='ann' password='x'/><user name='al'/>");
  const std::string b = host_file("b.lit", "<user name='bea'/>");
  write("x_a_lit.xml", "<?xml version='1.0' encoding='UTF-8'?>" + a);
  write("x_b_lit.xml", b);
  const std::string main =
      main_file("<xi:include href='x_a_lit.xml'/><xi:include href='x_b_lit.xml'></xi:include>");
  std::vector<std::string> users;
  ReadStats stats;
  EXPECT_EQ(read(main, &users, &stats), "");
  EXPECT_EQ(users, (std::vector<std::string>{"ann@a.lit", "al@a.lit", "bea@b.lit"}));
  EXPECT_EQ(stats.users, 3u);
  EXPECT_EQ(stats.ignored, 0u);
  EXPECT_EQ(stats.bytes, fs::file_size(main) + fs::file_size(dir_.path() / "export/x_a_lit.xml") +
                             fs::file_size(dir_.path() / "export/x_b_lit.xml"));
}

// The XEP's layout: host files include user files from a subdirectory, each
// href relative to the file it is in.
TEST_F(XInclude, ResolvesEachHrefAgainstItsOwnFile) {
  write("hosts/c.lit.xml", host_file("c.lit",
                                     "<xi:include href='c.lit/juliet.xml'/>\n"
                                     "<xi:include href='c.lit/with%20space.xml'/>"));
  write("hosts/c.lit/juliet.xml",
        "<user xmlns='urn:xmpp:pie:0' name='juliet'>"
        "<vCard xmlns='vcard-temp'><xi:include " +
            std::string(kXi) + " href='../../fn.xml'/></vCard></user>");
  write("hosts/c.lit/with space.xml", "<user xmlns='urn:xmpp:pie:0' name='nurse'/>");
  write("fn.xml", "<FN xmlns='vcard-temp'>Juliet</FN>");
  std::vector<std::string> names;
  std::string vcard;
  const std::string error =
      read_portable_file(main_file("<xi:include href='hosts/c.lit.xml'/>"),
                         [&](const std::string& host, xml::Element user) {
                           names.push_back(std::string(user.attr_or("name")) + "@" + host);
                           if (const xml::Element* v = user.child("vCard", "vcard-temp"))
                             vcard = v->child_text("FN", "vcard-temp");
                         });
  EXPECT_EQ(error, "");
  EXPECT_EQ(names, (std::vector<std::string>{"juliet@c.lit", "nurse@c.lit"}));
  EXPECT_EQ(vcard, "Juliet");  // an include inside a user is replaced in place
}

TEST_F(XInclude, ErrorsNameTheFileAndLine) {
  const std::string bad = write("bad.xml", host_file("a.lit", "\n<user name='x'>\n</oops>"));
  const std::string main = main_file("\n<xi:include href='bad.xml'/>");
  EXPECT_EQ(read(main), fs::canonical(bad).string() + ": line 3: mismatched tag");

  const std::string missing = main_file("\n\n<xi:include href='nowhere.xml'/>");
  std::string error = read(missing);
  EXPECT_TRUE(error.starts_with(missing + ": line 5: cannot open ")) << error;
  EXPECT_NE(error.find("nowhere.xml"), std::string::npos) << error;
}

TEST_F(XInclude, IncludesOnlyWholeXmlFiles) {
  write("a.xml", host_file("a.lit", ""));
  const std::string main = main_file("<xi:include href='a.xml' parse='text'/>");
  EXPECT_EQ(read(main),
            main + ": line 3: <xi:include parse='text'/> is not supported: only XML files");
  EXPECT_NE(read(main_file("<xi:include href='a.xml' xpointer='element(/1)'/>")).find("xpointer"),
            std::string::npos);
  EXPECT_NE(read(main_file("<xi:include/>")).find("without href"), std::string::npos);
  EXPECT_NE(read(main_file("<xi:fallback/>")).find("outside <xi:include/>"), std::string::npos);
  // The fallback of an include that works is not part of the document.
  EXPECT_EQ(read(main_file("<xi:include href='a.xml'><xi:fallback><user name='f'/>"
                           "</xi:fallback></xi:include>")),
            "");
}

TEST_F(XInclude, FollowsNoUrlAndNothingOutsideTheExportDirectory) {
  write("inside.xml", host_file("a.lit", "<user name='ok'/>"));
  std::ofstream(dir_.path() / "outside.xml") << host_file("a.lit", "<user name='secret'/>");
  fs::create_symlink(dir_.path() / "outside.xml", dir_.path() / "export" / "link.xml");
  ::mkfifo((dir_.path() / "export" / "fifo.xml").c_str(), 0600);
  for (const char* href : {"http://example.com/a.xml", "file:///etc/passwd", "file:inside.xml",
                           "/etc/passwd", "../outside.xml", "sub/../../outside.xml", "link.xml",
                           "inside.xml#x", "fifo.xml", "%2E%2E/outside.xml", "bad%zz.xml"}) {
    const std::string main = main_file("<xi:include href='" + std::string(href) + "'/>");
    std::vector<std::string> users;
    const std::string error = read(main, &users);
    EXPECT_TRUE(error.starts_with(main + ": line 3: ")) << href << ": " << error;
    EXPECT_TRUE(users.empty()) << href;
  }
  // '..' that stays inside is fine.
  write("sub/x.xml", "");
  std::vector<std::string> users;
  EXPECT_EQ(read(main_file("<xi:include href='sub/../inside.xml'/>"), &users), "");
  EXPECT_EQ(users, std::vector<std::string>{"ok@a.lit"});
}

TEST_F(XInclude, RefusesLoopsAndBoundsTheDepth) {
  write("self.xml", host_file("a.lit", "<xi:include href='self.xml'/>"));
  EXPECT_NE(read(main_file("<xi:include href='self.xml'/>")).find("include loop"),
            std::string::npos);
  // The main file itself, included from a file it includes.
  write("back.xml", "<xi:include " + std::string(kXi) + " href='main.xml'/>");
  EXPECT_NE(read(main_file("<xi:include href='back.xml'/>")).find("include loop"),
            std::string::npos);
  // The same file twice side by side is no loop.
  write("a.xml", host_file("a.lit", "<user name='ann'/>"));
  std::vector<std::string> users;
  EXPECT_EQ(read(main_file("<xi:include href='a.xml'/><xi:include href='a.xml'/>"), &users), "");
  EXPECT_EQ(users.size(), 2u);

  // A chain of 9 includes below the main file, each a different file.
  for (int i = 0; i < 9; ++i)
    write("chain" + std::to_string(i) + ".xml",
          "<xi:include " + std::string(kXi) + " href='chain" + std::to_string(i + 1) + ".xml'/>");
  write("chain9.xml", host_file("a.lit", ""));
  std::string error = read(main_file("<xi:include href='chain2.xml'/>"));
  EXPECT_EQ(error, "");  // 8 deep
  error = read(main_file("<xi:include href='chain0.xml'/>"));
  EXPECT_NE(error.find("nested deeper than 8 files"), std::string::npos) << error;
  EXPECT_TRUE(error.starts_with(fs::canonical(dir_.path() / "export/chain7.xml").string()))
      << error;
}

TEST_F(XInclude, AHandlerThatThrowsStopsTheReadingInAnIncludedFile) {
  write("a.xml", host_file("a.lit", "<user name='ann'/><user name='al'/>"));
  const std::string main = main_file("<xi:include href='a.xml'/>");
  int calls = 0;
  EXPECT_THROW(read_portable_file(main,
                                  [&](const std::string&, xml::Element) {
                                    ++calls;
                                    throw std::runtime_error("full");
                                  }),
               std::runtime_error);
  EXPECT_EQ(calls, 1);
}

TEST(XIncludeResolve, TakesRelativePathsInsideTheExportDirectoryOnly) {
  TempDir dir;
  const fs::path root = fs::canonical(dir.path());
  fs::create_directories(root / "h");
  std::ofstream(root / "h" / "u.xml") << "<user/>";
  std::ofstream(root / "a:b.xml") << "<user/>";
  EXPECT_EQ(resolve_include("h/u.xml", root, root).path, root / "h" / "u.xml");
  EXPECT_EQ(resolve_include("u.xml", root / "h", root).path, root / "h" / "u.xml");
  EXPECT_EQ(resolve_include("../a:b.xml", root / "h", root).path, root / "a:b.xml");
  EXPECT_EQ(resolve_include("./a:b.xml", root, root).path, root / "a:b.xml");
  EXPECT_NE(resolve_include("a:b.xml", root, root).error, "");  // a:… is a scheme
  EXPECT_NE(resolve_include("u.xml", root / "h", root / "h" / "x").error, "");
  EXPECT_NE(resolve_include("%00.xml", root, root).error, "");
  EXPECT_NE(resolve_include("h/u.xml?x=1", root, root).error, "");
}

}  // namespace
}  // namespace tern::portable
