// The uploaded files on disk and their index in memory. Each upload is a
// directory <root>/<slot id>/ holding "file" (the bytes) and "meta" (owner,
// name, size, type, time; see protocol.h). A PUT writes "file.part"; the
// upload exists once "file" and "meta" are both in place (renamed, so never
// half written). A directory without "meta" is what a stopped PUT left
// behind: load() removes it.
//
// Called from the HTTP shards (commit, find) and the hourly sweep (on the
// blocking pool): every member takes the mutex.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "modules/upload/protocol.h"

namespace tern::modules::upload {

class FileStore {
 public:
  explicit FileStore(std::filesystem::path root) : root_(std::move(root)) {}

  // Reads every upload under the root (creating it if need be) and removes
  // the leftovers of unfinished PUTs. Returns how many uploads it found.
  std::size_t load();

  std::filesystem::path temp_file(const std::string& id) const { return root_ / id / "file.part"; }
  std::filesystem::path data_file(const std::string& id) const { return root_ / id / "file"; }
  // Makes the directory of a slot about to be written; false on failure.
  bool prepare(const std::string& id) const;
  // Moves the received temp file into place and writes its metadata. On
  // failure nothing of the upload is left and the error says why.
  bool commit(const std::string& id, const FileMeta& meta, std::error_code& ec);
  // Removes an unfinished upload's directory (a failed PUT).
  void discard(const std::string& id);

  std::optional<FileMeta> find(const std::string& id) const;
  bool contains(const std::string& id) const;
  // Bytes an account's uploads take.
  std::uint64_t used_by(const std::string& owner) const;
  // When the oldest upload of `owner` was made (Unix seconds), if any.
  std::optional<std::int64_t> oldest_of(const std::string& owner) const;
  std::vector<std::string> owners() const;
  // Removes the uploads `doomed` picks; returns how many went.
  std::size_t remove_if(const std::function<bool(const FileMeta&)>& doomed);

 private:
  void remove_directory(const std::string& id) const;

  std::filesystem::path root_;
  mutable std::mutex mutex_;
  std::map<std::string, FileMeta> files_;  // by slot id
  std::map<std::string, std::uint64_t> used_;  // bytes by owner
};

}  // namespace tern::modules::upload
