// XEP-0030 service discovery: who the server is and what it offers, and the
// server's answers on behalf of its accounts.
//
// Features come from the other modules (ServerFeatures), which all start
// before disco; disco copies the lists once at start.
//
// Nodes: disco answers no node itself. The disco#items of a server node come
// from ServerFeatures::disco_item_nodes (ad-hoc commands, …). Any other
// request naming a node goes to the disco#info / disco#items handler another
// module registered for the same target before disco started, if there is
// one (disco keeps it); otherwise the node is item-not-found.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "modules/module.h"
#include "xml/element.h"

namespace tern::modules {

std::unique_ptr<Module> start_disco(ModuleContext& ctx);

namespace disco {

inline constexpr std::string_view kInfoNs = "http://jabber.org/protocol/disco#info";
inline constexpr std::string_view kItemsNs = "http://jabber.org/protocol/disco#items";

struct Identity {
  std::string category;
  std::string type;
  std::string name;  // optional
};

// disco's own two features plus `contributed`, sorted, each once.
std::vector<std::string> feature_list(std::vector<std::string> contributed);
// <query xmlns='…disco#info' [node]> with one identity and the features.
xml::Element info_result(const Identity& identity, const std::vector<std::string>& features,
                         std::string_view node = {});
// <query xmlns='…disco#items' [node]> with one <item jid [node] [name]/> per entry.
xml::Element items_result(const std::vector<DiscoItem>& items, std::string_view node = {});
// The services of `domain` among `items`: those whose JID is a subdomain of
// it (conference.example.com for example.com, not example.com itself).
std::vector<DiscoItem> subdomain_items(const std::vector<DiscoItem>& items,
                                       const std::string& domain);
// Whether a roster subscription state lets the contact see the owner's
// presence, which is what XEP-0030 §8 asks before answering for an account.
bool shares_presence(std::string_view subscription);

}  // namespace disco
}  // namespace tern::modules
