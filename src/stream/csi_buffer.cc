#include "stream/csi_buffer.h"

#include <algorithm>

#include "xml/parse_element.h"
#include "xmpp/namespaces.h"

namespace tern::stream {
namespace {

constexpr std::string_view kChatStates = "http://jabber.org/protocol/chatstates";
constexpr std::string_view kPubsubEvent = "http://jabber.org/protocol/pubsub#event";

// A pubsub event about one item (published or retracted, XEP-0060 §7.1.2,
// §7.2.2.1) can wait, and a newer event about the same item of the same
// node from the same sender replaces it: "pubsub <from> <node> <id>"
// (retractions keyed apart, so a retraction is never lost to a publish it
// followed). Purges, deletions and multi-item events go out at once.
std::optional<std::string> pubsub_key(const xml::Element& msg, const std::string& from) {
  const auto children = msg.children();
  if (children.size() != 1 || children[0]->name() != "event" || children[0]->ns() != kPubsubEvent)
    return std::nullopt;
  const auto inner = children[0]->children();
  if (inner.size() != 1 || inner[0]->name() != "items") return std::nullopt;
  const auto entries = inner[0]->children();
  if (entries.size() != 1) return std::nullopt;
  const auto id = entries[0]->attr_or("id");
  if (id.empty()) return std::nullopt;
  return "pubsub " + from + " " + std::string(inner[0]->attr_or("node")) + " " + entries[0]->name() +
         " " + std::string(id);
}

}  // namespace

std::optional<std::string> CsiBuffer::supersession_key(std::string_view stanza) {
  // Cheap tests first: most stanzas are decided without parsing.
  const bool presence = stanza.starts_with("<presence");
  if (!presence && !stanza.starts_with("<message")) return std::nullopt;
  const bool event = !presence && stanza.find(kPubsubEvent) != std::string_view::npos;
  if (!presence && (stanza.find("<body") != std::string_view::npos ||
                    (!event && stanza.find(kChatStates) == std::string_view::npos)))
    return std::nullopt;
  auto el = xml::parse_element(stanza, ns::kClient);
  if (!el) return std::nullopt;
  const auto from = std::string(el->attr_or("from"));
  const auto type = el->attr_or("type");
  if (presence) {
    // Subscription requests and errors matter now; availability can wait.
    if (!type.empty() && type != "unavailable") return std::nullopt;
    return "presence " + from;
  }
  // A message of chat states only (XEP-0085), nothing a user would read.
  if (type == "error") return std::nullopt;
  if (event) return pubsub_key(*el, from);
  for (const auto* child : el->children()) {
    if (child->ns() != kChatStates) return std::nullopt;
  }
  return el->children().empty() ? std::nullopt : std::optional("chat state " + from);
}

bool CsiBuffer::hold(std::string_view stanza) {
  if (!inactive_) return false;
  auto key = supersession_key(stanza);
  if (!key) return false;
  std::erase_if(held_, [&](const Held& h) { return h.key == *key; });
  if (held_.size() >= max_held_) return false;
  held_.push_back({std::move(*key), std::string(stanza)});
  return true;
}

std::vector<std::string> CsiBuffer::take_held() {
  std::vector<std::string> out;
  out.reserve(held_.size());
  for (auto& h : held_) out.push_back(std::move(h.stanza));
  held_.clear();
  return out;
}

std::vector<std::string> CsiBuffer::set_active() {
  inactive_ = false;
  return take_held();
}

}  // namespace tern::stream
