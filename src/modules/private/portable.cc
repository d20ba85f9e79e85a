// Private XML storage's part of a XEP-0227 <user/> (portable/section.h,
// XEP-0227 §4.5): one <query xmlns='jabber:iq:private'/> holding every
// stored element.
//
// Import: each element is stored as a private set would store it, under
// its own key; an empty one is nothing to store. An element a set would
// refuse (no namespace of its own, a reserved one) is skipped with a
// warning, as is the second of two with the same name and namespace. No
// size bound: the operator imports what another server kept. Export: every
// stored element, ordered by key.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "modules/private/private.h"
#include "portable/section.h"
#include "xml/element.h"
#include "xml/parse_element.h"
#include "xml/serializer.h"
#include "xmpp/namespaces.h"

namespace tern::modules::private_storage {
namespace {

class PrivateImport final : public portable::SectionData {
 public:
  void read(const xml::Element& query, std::vector<std::string>& warnings) override {
    for (const xml::Element* fragment : query.children()) {
      const std::string what =
          "private XML <" + fragment->name() + " xmlns='" + fragment->ns() + "'>";
      if (auto refused = check_fragment(*fragment)) {
        warnings.push_back(what + ": " + refused->text + "; skipped");
        continue;
      }
      if (xml::is_blank(*fragment)) continue;
      std::string key = document_key(*fragment);
      auto same = [&](const auto& f) { return f.first == key; };
      if (std::find_if(fragments_.begin(), fragments_.end(), same) != fragments_.end()) {
        warnings.push_back(what + " listed twice; the first one counts");
        continue;
      }
      fragments_.emplace_back(std::move(key), xml::to_string(*fragment, ""));
    }
  }

  void store(storage::BulkTransaction& bulk, const storage::AccountKey& owner, bool new_account,
             portable::SectionTally& tally) override {
    for (const auto& [key, xml] : fragments_)
      portable::store_document(bulk, owner, key, xml, new_account, tally);
  }

 private:
  std::vector<std::pair<std::string, std::string>> fragments_;  // key, as stored
};

std::uint64_t write_private(std::string& out, storage::BulkTransaction& bulk,
                            const storage::AccountKey& owner) {
  xml::Element query("query", std::string(kNs));
  for (const auto& [key, stored] : bulk.documents(owner, std::string(kDocumentPrefix)))
    if (auto fragment = xml::parse_element(stored, ns::kClient))
      query.add_child(std::move(*fragment));
  if (query.children().empty()) return 0;
  portable::append_to_user(out, query);
  return query.children().size();
}

}  // namespace

TERN_PORTABLE_SECTION(portable::Section{
    .name = "private",
    .element = "query",
    .ns = kNs,
    .rank = 30,
    .counted = "private XML elements",
    .summary = portable::Summary::kStored,
    .start_import = &portable::start_import<PrivateImport>,
    .write = &write_private,
});

}  // namespace tern::modules::private_storage
