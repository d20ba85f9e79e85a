// `tern export FILE`: every account of every served domain in the XEP-0227
// format, with SCRAM-SHA-1 and SCRAM-SHA-256 keys (never a password: Tern
// does not have one), what each portable section holds for the account
// (roster, vCard, private XML storage: section.h) and offline messages.
// Accounts are read 1,000 to a read transaction and written as they are
// read, so memory does not grow with the number of accounts.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "portable/section.h"
#include "storage/storage.h"

namespace tern::portable {

// What one section wrote, counted as the section counts it.
struct SectionCount {
  const Section* section = nullptr;
  std::uint64_t items = 0;
};

struct ExportReport {
  std::uint64_t users = 0, offline_messages = 0;
  std::vector<SectionCount> sections;                   // every section, in rank order
  std::uint64_t items(std::string_view section) const;  // by name; 0 if none
};

// Hands the document to `write` in pieces of about 1 MiB.
ExportReport export_portable(storage::Storage& storage, const std::vector<std::string>& domains,
                             const std::function<void(std::string_view)>& write,
                             const SectionRegistry& sections = builtin_sections());

// The command: writes FILE (mode 0600: it holds credential keys) through a
// temporary file renamed into place, so a failed export leaves no half file.
int run_export(const core::Config& config, const std::string& path);

}  // namespace tern::portable
