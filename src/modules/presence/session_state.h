// What the presence module keeps per session (RFC 6121 §4), in the
// session's module state (router::SessionStateSlots). Published on purpose:
// the blocking module ends directed presence and re-sends the current
// presence when a contact is blocked or unblocked (XEP-0191 §3.3-3.4).
// Touched on the session's own shard only (Host::on_shard_of from elsewhere).
#pragma once

#include <cstdint>
#include <iterator>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "xml/element.h"
#include "xml/parse_element.h"
#include "xml/serializer.h"
#include "xmpp/namespaces.h"

namespace tern::modules::presence {

class SessionPresence {
 public:
  // The latest available presence the session broadcast, 'from' its full
  // JID; nullopt before initial presence and after unavailable.
  std::optional<xml::Element> last_presence() const {
    if (last_presence_.empty()) return std::nullopt;
    return xml::parse_element(last_presence_, ns::kClient);
  }
  bool has_last_presence() const { return !last_presence_.empty(); }
  // Its <show/> ("" for plain available): pubsub show-values filters read
  // it on every notification, without parsing the presence.
  std::string_view show() const { return kShows[show_]; }
  void set_last_presence(const xml::Element& presence) {
    last_presence_ = xml::to_string(presence, ns::kClient);
    last_presence_.shrink_to_fit();  // kept for the session's life
    const auto show = presence.child_text("show");
    show_ = 0;
    for (std::uint8_t i = 1; i < std::size(kShows); ++i)
      if (show == kShows[i]) show_ = i;
  }
  void forget_last_presence() {
    std::string().swap(last_presence_);
    show_ = 0;
  }

  // JIDs it sent directed presence to (§4.6), told when it goes away.
  std::set<std::string> directed_to;

 private:
  // Serialised: a tree costs an allocation per attribute list and child in
  // every online session, and it is read again only when someone needs it
  // (a probe, an approval, an unblock, a new avatar).
  std::string last_presence_;
  // RFC 6121 §4.7.2.1's values; an unknown one counts as none.
  static constexpr std::string_view kShows[] = {"", "away", "chat", "dnd", "xa"};
  std::uint8_t show_ = 0;
};

}  // namespace tern::modules::presence
