// `tern import FILE`: XEP-0227 data into storage, idempotently.
//
// Rules (docs in README, "Import and export"):
// - users of a <host/> this server does not serve are skipped with a warning;
// - credentials: a 'password' attribute is turned into SCRAM-SHA-1 and
//   SCRAM-SHA-256 keys (PBKDF2 on every core); otherwise the file's
//   <scram-credentials/> are stored as they are, nothing derived (a user
//   with SHA-1 keys only can then log in with SCRAM-SHA-1 only). An existing
//   account's keys are replaced only when they differ (a password is checked
//   against the stored keys first);
// - each portable section (section.h) stores what it read its own way: the
//   roster module upserts items (items only in storage stay), the vcard
//   module replaces the vCard, the private module each private XML element;
// - offline messages are appended unless the account already has that very
//   stanza,
// so importing the same file twice changes nothing. Writes go in one
// transaction per `batch_users` users.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "portable/section.h"
#include "storage/storage.h"

namespace tern::portable {

struct ImportOptions {
  std::vector<std::string> domains;  // served domains; others are skipped
  std::size_t batch_users = 1000;
  int scram_iterations = 4096;  // for keys derived from a password
  unsigned threads = 0;         // PBKDF2 threads; 0: one per core
  std::size_t max_warnings_shown = 20;
};

struct ImportReport {
  // The file could not be read to its end (see `users_read`): "FILE: line N:
  // what", FILE the imported one or a file it includes.
  std::string error;
  std::uint64_t bytes = 0;
  std::uint64_t users_read = 0, users_created = 0, users_updated = 0, users_unchanged = 0,
                users_skipped = 0;
  std::uint64_t credentials_replaced = 0;
  struct SectionTotal {
    const Section* section = nullptr;
    SectionTally tally;
  };
  std::vector<SectionTotal> sections;  // every section, in rank order
  std::uint64_t offline_added = 0, offline_present = 0;
  std::uint64_t warnings = 0;
  std::vector<std::string> shown_warnings;  // the first max_warnings_shown

  // A section's tally by name (all zero for a section not there).
  SectionTally section(std::string_view name) const;
  bool changed_anything() const;
  std::string summary() const;  // several lines, each ending in '\n'
};

ImportReport import_portable_file(storage::Storage& storage, const ImportOptions& options,
                                  const std::string& path,
                                  const SectionRegistry& sections = builtin_sections());
ImportReport import_portable_text(storage::Storage& storage, const ImportOptions& options,
                                  std::string_view text,
                                  const SectionRegistry& sections = builtin_sections());

// The command: opens the configured storage, imports, prints the summary.
int run_import(const core::Config& config, const std::string& path);

}  // namespace tern::portable
