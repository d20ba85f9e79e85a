#include "http/static_files.h"

#include <gtest/gtest.h>

#include <fstream>

namespace tern::http {
namespace {

namespace fs = std::filesystem;

class StaticFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() / ("tern-static-" + std::to_string(::getpid()));
    root_ = base_ / "public";
    fs::create_directories(root_ / "dist");
    std::ofstream(root_ / "index.html") << "<html/>";
    std::ofstream(root_ / "dist" / "app.js") << "x";
    std::ofstream(base_ / "secret.txt") << "secret";
    fs::create_symlink(base_ / "secret.txt", root_ / "link.txt");
  }
  void TearDown() override { fs::remove_all(base_); }
  fs::path base_, root_;
};

TEST_F(StaticFilesTest, RootAndDirectoriesMapToIndex) {
  EXPECT_EQ(resolve_static(root_, "/"), fs::canonical(root_ / "index.html"));
  EXPECT_EQ(resolve_static(root_, "/?transport=bosh"), fs::canonical(root_ / "index.html"));
  EXPECT_EQ(resolve_static(root_, "/dist/app.js"), fs::canonical(root_ / "dist" / "app.js"));
  EXPECT_EQ(resolve_static(root_, "/dist/%61pp.js"), fs::canonical(root_ / "dist" / "app.js"));
}

TEST_F(StaticFilesTest, NothingOutsideTheRoot) {
  for (std::string_view bad : {"/../secret.txt", "/..%2fsecret.txt", "/%2e%2e/secret.txt",
                               "/dist/../../secret.txt", "//secret.txt", "/dist//app.js",
                               "/./index.html", "/link.txt", "/..\\secret.txt",
                               "/index.html%00.js", "/%zz", "/%2", "relative", "",
                               "/missing.js"}) {
    EXPECT_EQ(resolve_static(root_, bad), std::nullopt) << bad;
  }
}

TEST(StaticFiles, ContentTypesAndCaching) {
  EXPECT_EQ(content_type_of("a/index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(content_type_of("converse.min.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(content_type_of("converse.min.css"), "text/css; charset=utf-8");
  EXPECT_EQ(content_type_of("f.woff2"), "font/woff2");
  EXPECT_EQ(content_type_of("x.wasm"), "application/wasm");
  EXPECT_EQ(content_type_of("unknown.bin"), "application/octet-stream");
  EXPECT_EQ(cache_control_of("index.html"), "no-cache");
  EXPECT_EQ(cache_control_of("converse.min.js"), "public, max-age=86400");
}

}  // namespace
}  // namespace tern::http
