#include "modules/roster/item.h"

#include <algorithm>

#include "xmpp/jid.h"

namespace tern::modules::roster {

using xmpp::StanzaCondition;
using xmpp::StanzaError;

std::variant<RosterSet, StanzaError> parse_roster_set(const xml::Element& query,
                                                      std::size_t max_text) {
  std::vector<const xml::Element*> items;
  for (const auto* child : query.children())
    if (child->name() == "item" && child->ns() == kNs) items.push_back(child);
  // RFC 6121 §2.3.3: exactly one item.
  if (items.size() != 1)
    return StanzaError(StanzaCondition::kBadRequest, "a roster set carries exactly one item");
  const xml::Element& item = *items.front();
  auto jid_attr = item.attr("jid");
  if (!jid_attr) return StanzaError(StanzaCondition::kBadRequest, "the item has no jid");
  auto jid = xmpp::Jid::parse(*jid_attr);
  if (!jid || jid->is_full())
    return StanzaError(StanzaCondition::kJidMalformed, "the item's jid is not a valid bare JID");
  RosterSet out;
  out.jid = jid->to_string();
  if (item.attr_or("subscription") == "remove") {
    out.remove = true;
    return out;
  }
  out.name = std::string(item.attr_or("name"));
  if (out.name.size() > max_text)
    return StanzaError(StanzaCondition::kNotAcceptable, "the item's name is too long");
  for (const auto* group : item.children()) {
    if (group->name() != "group" || group->ns() != kNs) continue;
    std::string g = group->text();
    if (g.empty()) return StanzaError(StanzaCondition::kNotAcceptable, "empty group name");
    if (g.size() > max_text) return StanzaError(StanzaCondition::kNotAcceptable, "group name too long");
    if (std::find(out.groups.begin(), out.groups.end(), g) != out.groups.end())
      return StanzaError(StanzaCondition::kBadRequest, "duplicate group");
    out.groups.push_back(std::move(g));
  }
  return out;
}

bool is_hidden(const storage::RosterItem& item) {
  return item.subscription == "none" && !item.ask_out && item.pending_in && !item.approved &&
         item.name.empty() && item.groups.empty();
}

xml::Element item_element(const storage::RosterItem& item) {
  xml::Element el("item", kNs);
  el.set_attr("jid", item.jid);
  if (!item.name.empty()) el.set_attr("name", item.name);
  el.set_attr("subscription", item.subscription);
  if (item.ask_out) el.set_attr("ask", "subscribe");
  if (item.approved) el.set_attr("approved", "true");
  for (const auto& g : item.groups) el.add_child("group").add_text(g);
  return el;
}

xml::Element removed_item_element(const std::string& jid) {
  xml::Element el("item", kNs);
  el.set_attr("jid", jid);
  el.set_attr("subscription", "remove");
  return el;
}

}  // namespace tern::modules::roster
