#include "portable/export.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "portable/format.h"
#include "xml/serializer.h"

namespace tern::portable {
namespace {

constexpr std::size_t kUsersPerTransaction = 1000;
constexpr std::size_t kFlushBytes = 1 << 20;

}  // namespace

std::uint64_t ExportReport::items(std::string_view section) const {
  for (const SectionCount& c : sections)
    if (c.section->name == section) return c.items;
  return 0;
}

ExportReport export_portable(storage::Storage& storage, const std::vector<std::string>& domains,
                             const std::function<void(std::string_view)>& write,
                             const SectionRegistry& sections) {
  ExportReport report;
  for (const Section& section : sections.all()) report.sections.push_back({&section, 0});
  std::string out = "<?xml version='1.0' encoding='UTF-8'?>\n<server-data xmlns='";
  out += portable::kNs;
  out += "'>\n";
  for (const std::string& domain : domains) {
    out += "<host jid='";
    xml::append_escaped_attr(out, domain);
    out += "'>\n";
    const std::vector<storage::AccountKey> accounts = storage.accounts().list(domain);
    for (std::size_t first = 0; first < accounts.size(); first += kUsersPerTransaction) {
      auto bulk = storage.begin_bulk(storage::Storage::BulkMode::kRead);
      const std::size_t last = std::min(accounts.size(), first + kUsersPerTransaction);
      for (std::size_t i = first; i < last; ++i) {
        const storage::AccountKey& key = accounts[i];
        auto credentials = bulk->credentials(key);
        if (!credentials) continue;  // deleted since the listing
        portable::begin_user(out, key.user, *credentials);
        for (SectionCount& count : report.sections)
          count.items += count.section->write(out, *bulk, key);
        auto offline = bulk->offline_messages(key);
        portable::end_user(out, offline);
        ++report.users;
        report.offline_messages += offline.size();
        if (out.size() >= kFlushBytes) {
          write(out);
          out.clear();
        }
      }
    }
    out += "</host>\n";
  }
  out += "</server-data>\n";
  write(out);
  return report;
}

int run_export(const core::Config& config, const std::string& path) {
  std::filesystem::create_directories(config.data_dir);
  auto storage = storage::open_storage(config.storage_backend, config.sqlite_path());
  const std::string temp = path + ".tmp";
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    std::cerr << "tern: cannot create " << temp << ": " << std::strerror(errno) << "\n";
    return 1;
  }
  std::FILE* file = ::fdopen(fd, "wb");
  const auto start = std::chrono::steady_clock::now();
  bool failed = false;
  ExportReport report;
  try {
    report = export_portable(*storage, config.domains, [&](std::string_view piece) {
      if (!failed && std::fwrite(piece.data(), 1, piece.size(), file) != piece.size())
        failed = true;
    });
  } catch (...) {
    std::fclose(file);
    std::remove(temp.c_str());
    throw;
  }
  failed = std::fflush(file) != 0 || ::fsync(fd) != 0 || failed;
  failed = std::fclose(file) != 0 || failed;
  if (failed || std::rename(temp.c_str(), path.c_str()) != 0) {
    std::cerr << "tern: cannot write " << path << ": " << std::strerror(errno) << "\n";
    std::remove(temp.c_str());
    return 1;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  char took[64];
  std::snprintf(took, sizeof took, "%.1f", seconds);
  std::cout << "exported " << report.users << " users, ";
  for (const SectionCount& count : report.sections)
    std::cout << count.items << " " << count.section->counted << ", ";
  std::cout << report.offline_messages << " offline messages to " << path << " in " << took
            << " s\n";
  return 0;
}

}  // namespace tern::portable
