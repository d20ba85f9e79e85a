// Bookmarks in their three homes, kept in step (XEP-0402 §3 and §5, the
// compatibility with XEP-0048 both ways):
// - PEP node urn:xmpp:bookmarks:1, one item per room (id: the room JID);
// - PEP node storage:bookmarks, one item holding <storage/> (XEP-0048 via PEP);
// - private XML storage (XEP-0049) of <storage xmlns='storage:bookmarks'/>.
// A change through any one is written to the other two. These are the pure
// conversions; sync.cc does the storage work.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "xml/element.h"

namespace tern::modules::pep::bookmarks {

inline constexpr const char* kNode = "urn:xmpp:bookmarks:1";       // XEP-0402
inline constexpr const char* kLegacyNs = "storage:bookmarks";        // XEP-0048
// The private storage document key (see the private module).
inline constexpr const char* kPrivateKey = "private:{storage:bookmarks}storage";

struct Bookmark {
  std::string jid;
  std::string name;
  bool autojoin = false;
  std::string nick;
  std::string password;
  std::optional<xml::Element> extensions;  // XEP-0402 <extensions/>, kept as is
  bool operator==(const Bookmark&) const = default;
};

// A XEP-0402 item (id = room JID) ↔ a bookmark.
std::optional<Bookmark> from_item(const std::string& id, const xml::Element& conference);
xml::Element to_conference(const Bookmark& b);

// XEP-0048 <storage/> ↔ bookmarks. `urls` keeps the <url/> bookmarks
// XEP-0402 has no place for, so a round trip through it loses none.
std::vector<Bookmark> from_storage(const xml::Element& storage, std::vector<xml::Element>* urls = nullptr);
xml::Element to_storage(const std::vector<Bookmark>& bookmarks, const std::vector<xml::Element>& urls);

}  // namespace tern::modules::pep::bookmarks
