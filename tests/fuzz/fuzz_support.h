// What several fuzz targets share: a property check that traps (libFuzzer
// reports it with the input), and a scratch directory tree that lives for
// the fuzzing process.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

namespace tern::fuzz {

inline void check(bool ok) {
  if (!ok) __builtin_trap();
}

class ScratchDir {
 public:
  explicit ScratchDir(const char* prefix) {
    std::string tmpl = (std::filesystem::temp_directory_path() / (std::string(prefix) + "-XXXXXX")).string();
    path_ = std::filesystem::canonical(mkdtemp(tmpl.data()));
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // A small file at `relative`, its directories created.
  void write(const std::filesystem::path& relative, const std::string& text = "x") const {
    std::filesystem::create_directories((path_ / relative).parent_path());
    std::ofstream(path_ / relative) << text;
  }

 private:
  std::filesystem::path path_;
};

}  // namespace tern::fuzz
