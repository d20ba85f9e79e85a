#include "portable/section.h"

#include <algorithm>
#include <stdexcept>

#include "portable/format.h"
#include "xml/serializer.h"

namespace tern::portable {
namespace {

SectionRegistry& registry() {
  static SectionRegistry sections;
  return sections;
}

}  // namespace

void SectionRegistry::add(const Section& section) {
  if (is_portable_ns(section.ns))
    throw std::logic_error("portable section " + std::string(section.name) +
                           ": XEP-0227's own namespace belongs to the core");
  if (find(section.element, section.ns) || find(section.name))
    throw std::logic_error("portable section " + std::string(section.name) + " added twice");
  // Stable by rank; equal ranks by name, so the order never depends on the
  // link order of the object files.
  auto at = std::find_if(sections_.begin(), sections_.end(), [&](const Section& s) {
    return s.rank > section.rank || (s.rank == section.rank && s.name > section.name);
  });
  sections_.insert(at, section);
}

const Section* SectionRegistry::find(std::string_view element, std::string_view ns) const {
  for (const Section& s : sections_)
    if (s.element == element && s.ns == ns) return &s;
  return nullptr;
}

const Section* SectionRegistry::find(std::string_view name) const {
  for (const Section& s : sections_)
    if (s.name == name) return &s;
  return nullptr;
}

const SectionRegistry& builtin_sections() { return registry(); }

SectionRegistrar::SectionRegistrar(const Section& section) { registry().add(section); }

void append_to_user(std::string& out, const xml::Element& element) {
  xml::serialize(out, element, kNs);
}

void store_document(storage::BulkTransaction& bulk, const storage::AccountKey& owner,
                    const std::string& key, const std::string& xml, bool new_account,
                    SectionTally& tally) {
  std::optional<std::string> stored;
  if (!new_account) stored = bulk.document(owner, key);
  if (stored == xml) {
    ++tally.unchanged;
    return;
  }
  bulk.put_document(owner, key, xml);
  ++(stored ? tally.changed : tally.added);
}

}  // namespace tern::portable
