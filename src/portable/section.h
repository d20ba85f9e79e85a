// Portable sections: the parts of a XEP-0227 <user/> that features own.
//
// The core of import/export (format.h, import.h, export.h) knows the file's
// structure, credentials and offline messages. Everything else a <user/>
// may carry belongs to the feature that stores it: the roster module reads
// and writes <query xmlns='jabber:iq:roster'/>, the vcard module
// <vCard xmlns='vcard-temp'/>, and so on. Each declares a Section from its
// own folder, the way it declares itself with TERN_MODULE:
//
//   TERN_PORTABLE_SECTION(portable::Section{
//       .name = "roster", .element = "query", .ns = "jabber:iq:roster", .rank = 10,
//       .counted = "roster items", .summary = portable::Summary::kAddedChanged,
//       .start_import = &portable::start_import<RosterImport>, .write = &write_roster});
//
// Import: for each child of <user/> that a section claims (by local name
// and namespace), the section's SectionData reads it; a child no section
// claims is ignored with a warning. Once the account's credentials are
// written, in the same bulk transaction, the data stores itself. Export:
// each section appends what the account has, read from the bulk reader.
// Sections use the storage interfaces only, never a running server, and
// are there whether or not their module is enabled in the config: the data
// is the account's, and import and export never start a module.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "storage/storage.h"
#include "xml/element.h"

namespace tern::portable {

// What an import did with a section's items (roster items, vCards, …).
struct SectionTally {
  std::uint64_t added = 0;      // nothing was stored under the item's name
  std::uint64_t changed = 0;    // something else was, and is replaced
  std::uint64_t unchanged = 0;  // the file's item was stored already
  bool operator==(const SectionTally&) const = default;
};

// What one section read from one <user/>, kept until the account's batch
// is written.
class SectionData {
 public:
  virtual ~SectionData() = default;
  // One child of <user/> the section claims, in file order (a section may
  // see several). What cannot be imported is skipped and named in
  // `warnings`, without the account's name (the importer adds it).
  virtual void read(const xml::Element& child, std::vector<std::string>& warnings) = 0;
  // Writes what was read for `owner`, within the import's write
  // transaction, and counts it in `tally`. `new_account`: the account did
  // not exist before this import, so nothing of its own is stored yet.
  // Storing the same data twice must change nothing the second time.
  virtual void store(storage::BulkTransaction& bulk, const storage::AccountKey& owner,
                     bool new_account, SectionTally& tally) = 0;
};

// How a section's line of the import summary reads.
enum class Summary {
  kAddedChanged,  // "roster items: 2 added, 1 changed, 3 unchanged"
  kStored,        // "vCards: 3 stored, 3 unchanged" (stored: added + changed)
};

struct Section {
  std::string_view name;     // in messages and tests: "roster"
  std::string_view element;  // the child of <user/> it owns: local name
  std::string_view ns;       // and namespace
  // Order of the sections in a written <user/> (after the credentials,
  // before the offline messages) and in the reports; equal ranks by name.
  int rank = 50;
  std::string_view counted;  // what the reports count: "roster items"
  Summary summary = Summary::kStored;
  // Counted beside the users in the one line an import that changed
  // nothing prints ("3 users, 4 roster items: unchanged").
  bool headline = false;
  std::unique_ptr<SectionData> (*start_import)() = nullptr;
  // Appends the account's data (nothing when it has none) and returns how
  // many items the export report counts for it.
  std::uint64_t (*write)(std::string& out, storage::BulkTransaction& bulk,
                         const storage::AccountKey& owner) = nullptr;
};

// For Section::start_import: a fresh Data (a SectionData).
template <typename Data>
std::unique_ptr<SectionData> start_import() {
  return std::make_unique<Data>();
}

// Sections by rank; one per (element, namespace).
class SectionRegistry {
 public:
  // Throws std::logic_error for a second section with the same element, or
  // one in XEP-0227's own namespace (the core's).
  void add(const Section& section);
  // The section that owns <element xmlns=ns/> in a <user/>, or nullptr.
  const Section* find(std::string_view element, std::string_view ns) const;
  const Section* find(std::string_view name) const;
  // Pointers stay valid until the next add.
  const std::vector<Section>& all() const { return sections_; }

 private:
  std::vector<Section> sections_;
};

// Every section compiled into the binary (TERN_PORTABLE_SECTION).
const SectionRegistry& builtin_sections();

// Adds a section to builtin_sections(); used at static initialisation only.
struct SectionRegistrar {
  explicit SectionRegistrar(const Section& section);
};

// Appends `element` as a child of <user/>: serialized with the namespace
// declarations it needs there.
void append_to_user(std::string& out, const xml::Element& element);

// For SectionData::store of a section kept in the DocumentStore: stores
// `xml` under `key` unless that very text is stored already, and counts it.
void store_document(storage::BulkTransaction& bulk, const storage::AccountKey& owner,
                    const std::string& key, const std::string& xml, bool new_account,
                    SectionTally& tally);

#define TERN_PORTABLE_SECTION_CONCAT_(a, b) a##b
#define TERN_PORTABLE_SECTION_CONCAT(a, b) TERN_PORTABLE_SECTION_CONCAT_(a, b)
// TERN_PORTABLE_SECTION(portable::Section{.name = "vcard", ...});
#define TERN_PORTABLE_SECTION(...)                                              \
  static const ::tern::portable::SectionRegistrar TERN_PORTABLE_SECTION_CONCAT( \
      tern_portable_section_, __LINE__)(__VA_ARGS__)

}  // namespace tern::portable
