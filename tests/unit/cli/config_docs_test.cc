#include "cli/config_docs.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/config.h"
#include "modules/module.h"

namespace tern::cli {
namespace {

const std::filesystem::path kRoot =
    std::filesystem::path(__FILE__).parent_path().parent_path().parent_path().parent_path();

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << "cannot open " << path;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

constexpr std::string_view kStart = "<!-- config-reference:start -->\n";
constexpr std::string_view kEnd = "<!-- config-reference:end -->\n";

// tern.example.toml at the repository root and the README's reference (between
// the config-reference markers) must be the generated texts, so that a new
// option, of the core or of a module, cannot be forgotten there. To
// regenerate both, run this test with TERN_UPDATE_EXAMPLE_CONFIG=1.
TEST(ConfigDocs, RepositoryFilesAreUpToDate) {
  const std::filesystem::path example = kRoot / "tern.example.toml";
  const std::filesystem::path readme = kRoot / "README.md";
  std::string text = read_file(readme);
  const std::size_t start = text.find(kStart);
  const std::size_t end = text.find(kEnd);
  ASSERT_NE(start, std::string::npos);
  ASSERT_NE(end, std::string::npos);
  ASSERT_LT(start, end);
  const std::size_t body = start + kStart.size();
  if (std::getenv("TERN_UPDATE_EXAMPLE_CONFIG") != nullptr) {
    std::ofstream(example, std::ios::binary) << config_example();
    text.replace(body, end - body, config_reference());
    std::ofstream(readme, std::ios::binary) << text;
  }
  const std::string hint = "regenerate with TERN_UPDATE_EXAMPLE_CONFIG=1 unit_cli";
  EXPECT_EQ(read_file(example), config_example()) << hint;
  text = read_file(readme);
  EXPECT_EQ(text.substr(body, text.find(kEnd) - body), config_reference()) << hint;

  core::ConfigResult result = core::load_config(example.string());
  for (const auto& d : result.errors) ADD_FAILURE() << d.to_string();
  core::Config defaults;
  defaults.file = example.string();
  EXPECT_EQ(result.config, defaults);
}

// The example's module options, uncommented, go through the real loader
// and every module reads them as its defaults.
TEST(ConfigDocs, ExampleModuleOptionsLoadAsTheDefaults) {
  std::istringstream example(config_example());
  std::string uncommented;
  bool in_modules = false;
  for (std::string line; std::getline(example, line);) {
    if (line.rfind("# [modules.", 0) == 0 && line != "# [modules.muc]") in_modules = true;
    // The lines after a module's header: "# doc." and "# key = value".
    if (in_modules && line.rfind("# ", 0) == 0 && line.find(" = ") != std::string::npos)
      line.erase(0, 2);
    if (in_modules && line.rfind("# [modules.", 0) == 0) line.erase(0, 2);
    uncommented += line + "\n";
  }
  core::ConfigResult result = core::parse_config(uncommented, "example");
  for (const auto& d : result.errors) ADD_FAILURE() << d.to_string();
  int tables = 0;
  for (const modules::ModuleInfo& info : modules::builtin_modules()) {
    if (info.options == nullptr) continue;
    auto table = result.config.module_options.find(info.name);
    ASSERT_NE(table, result.config.module_options.end()) << info.name << "\n" << uncommented;
    EXPECT_FALSE(table->second.empty()) << info.name;
    const auto defaults = info.options(info.name, {});
    const auto read = info.options(info.name, table->second);
    ASSERT_EQ(read.size(), defaults.size());
    for (std::size_t i = 0; i < read.size(); ++i)
      EXPECT_EQ(read[i].default_toml, defaults[i].default_toml) << info.name << "." << read[i].key;
    ++tables;
  }
  EXPECT_GT(tables, 10);
}

}  // namespace
}  // namespace tern::cli
