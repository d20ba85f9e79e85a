// Drives one registered portable section (portable/section.h) the way `tern
// import` and `tern export` do, against a SQLite store in a temp dir, so a
// module's section test reads as: read a child, store it, write it back.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "portable/format.h"
#include "portable/section.h"
#include "storage/sqlite/sqlite_storage.h"
#include "storage/temp_dir.h"
#include "xml/parse_element.h"

namespace tern::portable::testing {

class SectionHarness {
 public:
  // The built-in section `name`; the account `owner` exists.
  explicit SectionHarness(std::string_view name)
      : section_(builtin_sections().find(name)),
        storage_(std::make_unique<storage::sqlite::SqliteStorage>(
            dir_.file("section.db"), storage::sqlite::SqliteOptions{.scram_iterations = 64})) {
    if (!section_) ADD_FAILURE() << "no portable section " << name;
    storage_->accounts().create(owner, "secret");
  }

  const Section& section() const { return *section_; }
  storage::Storage& storage() { return *storage_; }

  // What the section read from children of <user/> (each in the file's
  // namespace, as the reader sees them), with the warnings.
  struct Read {
    std::unique_ptr<SectionData> data;
    std::vector<std::string> warnings;
  };
  Read read(const std::vector<std::string_view>& children) {
    Read out{section_->start_import(), {}};
    for (std::string_view text : children) {
      auto child = xml::parse_element(text, kNs);
      if (!child) {
        ADD_FAILURE() << "does not parse: " << text;
        continue;
      }
      out.data->read(*child, out.warnings);
    }
    return out;
  }
  Read read(std::string_view child) { return read(std::vector<std::string_view>{child}); }

  // Stores in one bulk write transaction, as the importer does.
  SectionTally store(SectionData& data, bool new_account = false) {
    SectionTally tally;
    auto bulk = storage_->begin_bulk(storage::Storage::BulkMode::kWrite);
    data.store(*bulk, owner, new_account, tally);
    bulk->commit();
    return tally;
  }
  SectionTally store(std::string_view child) { return store(*read(child).data); }

  // What the section writes into the account's <user/>, and its count.
  struct Written {
    std::string text;
    std::uint64_t items = 0;
  };
  Written write() {
    Written out;
    auto bulk = storage_->begin_bulk(storage::Storage::BulkMode::kRead);
    out.items = section_->write(out.text, *bulk, owner);
    return out;
  }

  const storage::AccountKey owner{"juliet", "capulet.lit"};

 private:
  storage::testing::TempDir dir_;
  const Section* section_;
  std::unique_ptr<storage::Storage> storage_;
};

}  // namespace tern::portable::testing
