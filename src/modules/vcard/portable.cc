// The vCard's part of a XEP-0227 <user/> (portable/section.h): the
// <vCard xmlns='vcard-temp'/> as a vCard set would store it. An empty one
// is no vCard; of several, the last non-empty one counts (as the last of
// several sets would). Import replaces the stored vCard; export writes it
// back as stored.
#include <optional>
#include <string>

#include "modules/vcard/vcard.h"
#include "xml/element.h"
#include "portable/section.h"
#include "xml/parse_element.h"
#include "xml/serializer.h"
#include "xmpp/namespaces.h"

namespace tern::modules::vcard {
namespace {

class VcardImport final : public portable::SectionData {
 public:
  void read(const xml::Element& vcard, std::vector<std::string>&) override {
    // Serialized as the vcard module stores a vCard set.
    if (!xml::is_blank(vcard)) vcard_ = xml::to_string(vcard, "");
  }

  void store(storage::BulkTransaction& bulk, const storage::AccountKey& owner, bool new_account,
             portable::SectionTally& tally) override {
    if (vcard_)
      portable::store_document(bulk, owner, std::string(kDocumentKey), *vcard_, new_account, tally);
  }

 private:
  std::optional<std::string> vcard_;
};

std::uint64_t write_vcard(std::string& out, storage::BulkTransaction& bulk,
                          const storage::AccountKey& owner) {
  const std::optional<std::string> stored = bulk.document(owner, std::string(kDocumentKey));
  if (!stored) return 0;
  // Parsed back so that it is written with the namespaces its place needs.
  if (auto vcard = xml::parse_element(*stored, ns::kClient)) portable::append_to_user(out, *vcard);
  return 1;
}

}  // namespace

TERN_PORTABLE_SECTION(portable::Section{
    .name = "vcard",
    .element = "vCard",
    .ns = kNs,
    .rank = 20,
    .counted = "vCards",
    .summary = portable::Summary::kStored,
    .start_import = &portable::start_import<VcardImport>,
    .write = &write_vcard,
});

}  // namespace tern::modules::vcard
