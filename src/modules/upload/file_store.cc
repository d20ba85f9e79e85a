#include "modules/upload/file_store.h"

#include <spdlog/spdlog.h>

#include <fstream>
#include <iterator>

namespace tern::modules::upload {

namespace fs = std::filesystem;

std::size_t FileStore::load() {
  fs::create_directories(root_);
  std::lock_guard lock(mutex_);
  files_.clear();
  used_.clear();
  std::size_t leftovers = 0;
  for (const auto& entry : fs::directory_iterator(root_)) {
    const std::string id = entry.path().filename().string();
    if (!entry.is_directory() || !is_slot_id(id)) continue;  // not ours: left alone
    std::optional<FileMeta> meta;
    if (std::ifstream in{entry.path() / "meta", std::ios::binary}) {
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      meta = parse_meta_text(text);
    }
    std::error_code ec;
    if (!meta || fs::file_size(entry.path() / "file", ec) != meta->size || ec) {
      // A PUT stopped by a kill or a crash, or a file lost from under us.
      remove_directory(id);
      ++leftovers;
      continue;
    }
    fs::remove(entry.path() / "file.part", ec);
    used_[meta->owner] += meta->size;
    files_.emplace(id, std::move(*meta));
  }
  if (leftovers) spdlog::info("upload: removed {} unfinished uploads under {}", leftovers, root_.string());
  return files_.size();
}

bool FileStore::prepare(const std::string& id) const {
  std::error_code ec;
  fs::create_directories(root_ / id, ec);
  return !ec;
}

bool FileStore::commit(const std::string& id, const FileMeta& meta, std::error_code& ec) {
  const fs::path dir = root_ / id;
  {
    std::ofstream out(dir / "meta.part", std::ios::binary | std::ios::trunc);
    const std::string text = to_meta_text(meta);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    out.flush();
    if (!out) ec = std::make_error_code(std::errc::no_space_on_device);  // the likely cause
  }
  if (!ec) fs::rename(dir / "file.part", dir / "file", ec);
  // "meta" last: its presence is what makes the upload exist after a restart.
  if (!ec) fs::rename(dir / "meta.part", dir / "meta", ec);
  if (ec) {
    remove_directory(id);
    return false;
  }
  std::lock_guard lock(mutex_);
  used_[meta.owner] += meta.size;
  files_[id] = meta;
  return true;
}

void FileStore::discard(const std::string& id) {
  std::lock_guard lock(mutex_);
  if (!files_.count(id)) remove_directory(id);
}

std::optional<FileMeta> FileStore::find(const std::string& id) const {
  std::lock_guard lock(mutex_);
  auto it = files_.find(id);
  if (it == files_.end()) return std::nullopt;
  return it->second;
}

bool FileStore::contains(const std::string& id) const {
  std::lock_guard lock(mutex_);
  return files_.count(id) > 0;
}

std::uint64_t FileStore::used_by(const std::string& owner) const {
  std::lock_guard lock(mutex_);
  auto it = used_.find(owner);
  return it == used_.end() ? 0 : it->second;
}

std::optional<std::int64_t> FileStore::oldest_of(const std::string& owner) const {
  std::lock_guard lock(mutex_);
  std::optional<std::int64_t> oldest;
  for (const auto& [id, meta] : files_)
    if (meta.owner == owner && (!oldest || meta.created < *oldest)) oldest = meta.created;
  return oldest;
}

std::vector<std::string> FileStore::owners() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  for (const auto& [owner, bytes] : used_) out.push_back(owner);
  return out;
}

std::size_t FileStore::remove_if(const std::function<bool(const FileMeta&)>& doomed) {
  std::vector<std::string> gone;
  {
    std::lock_guard lock(mutex_);
    for (auto it = files_.begin(); it != files_.end();) {
      if (!doomed(it->second)) {
        ++it;
        continue;
      }
      auto& used = used_[it->second.owner];
      used -= std::min(used, it->second.size);
      if (used == 0) used_.erase(it->second.owner);
      gone.push_back(it->first);
      it = files_.erase(it);
    }
  }
  // Out of the index first, so no GET starts on a file being removed (one
  // already streaming keeps its open file).
  for (const auto& id : gone) remove_directory(id);
  return gone.size();
}

void FileStore::remove_directory(const std::string& id) const {
  std::error_code ec;
  fs::remove_all(root_ / id, ec);
  if (ec) spdlog::warn("upload: cannot remove {}: {}", (root_ / id).string(), ec.message());
}

}  // namespace tern::modules::upload
