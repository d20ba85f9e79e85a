// The roster's part of a XEP-0227 <user/> (portable/section.h): the
// <query xmlns='jabber:iq:roster'/> a roster get returns.
//
// Import: jids normalised to bare JIDs (an item with a bad or full jid is
// skipped with a warning), an item listed twice counts once (the first),
// subscription='remove' is no item, an unknown subscription reads as none.
// Items are upserted: items only in storage stay, and what the format does
// not carry (a pending inbound request) stays as stored. The roster version
// is bumped once per account that changed.
//
// Export: every item the user has seen; an item created by an inbound
// subscription request alone (is_hidden) is not part of the roster yet.
#include <algorithm>
#include <string>
#include <unordered_map>
#include <vector>

#include "modules/roster/item.h"
#include "portable/section.h"
#include "xmpp/jid.h"

namespace tern::modules::roster {
namespace {

bool is_subscription(const std::string& s) {
  return s == "none" || s == "to" || s == "from" || s == "both";
}

// What the file says about the items it lists; pending-in state and the
// stored request are not in the format and stay as they are.
bool same_item(const storage::RosterItem& a, const storage::RosterItem& b) {
  return a.name == b.name && a.subscription == b.subscription && a.ask_out == b.ask_out &&
         a.approved == b.approved && a.groups == b.groups;
}

class RosterImport final : public portable::SectionData {
 public:
  void read(const xml::Element& query, std::vector<std::string>& warnings) override {
    for (const xml::Element* item : query.children())
      if (item->name() == "item") read_item(*item, warnings);
  }

  void store(storage::BulkTransaction& bulk, const storage::AccountKey& owner, bool,
             portable::SectionTally& tally) override {
    if (items_.empty()) return;
    // Read even for a new account: rows left without one would make the
    // plain insert below fail.
    std::unordered_map<std::string, storage::RosterItem> have;
    for (auto& item : bulk.roster_items(owner)) {
      std::string jid = item.jid;
      have.emplace(std::move(jid), std::move(item));
    }
    bool changed = false;
    for (storage::RosterItem& item : items_) {
      auto it = have.find(item.jid);
      if (it == have.end()) {
        bulk.add_roster_item(owner, item);
        ++tally.added;
        changed = true;
      } else if (same_item(it->second, item)) {
        ++tally.unchanged;
      } else {
        item.pending_in = it->second.pending_in;
        item.pending_in_stanza = it->second.pending_in_stanza;
        bulk.put_roster_item(owner, item);
        ++tally.changed;
        changed = true;
      }
    }
    if (changed) bulk.bump_roster_version(owner);
  }

 private:
  void read_item(const xml::Element& item, std::vector<std::string>& warnings) {
    auto jid = xmpp::Jid::parse(item.attr_or("jid"));
    if (!jid || jid->has_resource()) {
      warnings.push_back("roster item with a bad jid '" + std::string(item.attr_or("jid")) + "'");
      return;
    }
    storage::RosterItem out;
    out.jid = jid->bare_string();
    out.name = item.attr_or("name");
    out.subscription = item.attr_or("subscription", "none");
    if (out.subscription == "remove") return;
    if (!is_subscription(out.subscription)) {
      warnings.push_back("roster item " + out.jid + ": subscription '" + out.subscription +
                         "' read as 'none'");
      out.subscription = "none";
    }
    out.ask_out = item.attr_or("ask") == "subscribe";
    const auto approved = item.attr_or("approved");
    out.approved = approved == "true" || approved == "1";
    for (const xml::Element* group : item.children()) {
      if (group->name() != "group") continue;
      std::string name = group->text();
      if (name.empty() || std::find(out.groups.begin(), out.groups.end(), name) != out.groups.end())
        continue;
      out.groups.push_back(std::move(name));
    }
    auto same = [&](const storage::RosterItem& r) { return r.jid == out.jid; };
    if (std::find_if(items_.begin(), items_.end(), same) != items_.end()) {
      warnings.push_back("roster item " + out.jid + " listed twice; the first one counts");
      return;
    }
    items_.push_back(std::move(out));
  }

  std::vector<storage::RosterItem> items_;
};

std::uint64_t write_roster(std::string& out, storage::BulkTransaction& bulk,
                           const storage::AccountKey& owner) {
  const std::vector<storage::RosterItem> items = bulk.roster_items(owner);
  xml::Element query("query", kNs);
  for (const storage::RosterItem& item : items)
    if (!is_hidden(item)) query.add_child(item_element(item));
  if (!query.children().empty()) portable::append_to_user(out, query);
  // The export report has always counted every stored item, hidden ones too.
  return items.size();
}

}  // namespace

TERN_PORTABLE_SECTION(portable::Section{
    .name = "roster",
    .element = "query",
    .ns = kNs,
    .rank = 10,
    .counted = "roster items",
    .summary = portable::Summary::kAddedChanged,
    .headline = true,
    .start_import = &portable::start_import<RosterImport>,
    .write = &write_roster,
});

}  // namespace tern::modules::roster
