#include "modules/mam/policy.h"

#include <algorithm>

#include "modules/mam/query.h"

namespace tern::modules::mam {
namespace {

bool has_encrypted_payload(const xml::Element& message) {
  // OMEMO (legacy and current), OpenPGP for XMPP, legacy OpenPGP, and the
  // explicit-encryption marker (XEP-0380).
  static constexpr std::string_view kEncrypted[] = {
      "eu.siacs.conversations.axolotl", "urn:xmpp:omemo:2", "urn:xmpp:openpgp:0",
      "jabber:x:encrypted", "urn:xmpp:eme:0"};
  for (const auto* child : message.children())
    if (std::find(std::begin(kEncrypted), std::end(kEncrypted), child->ns()) != std::end(kEncrypted))
      return true;
  return false;
}

bool listed(const std::vector<std::string>& jids, const xmpp::Jid& peer) {
  const auto bare = peer.bare_string();
  const auto full = peer.to_string();
  return std::any_of(jids.begin(), jids.end(),
                     [&](const std::string& j) { return j == bare || j == full; });
}

std::variant<std::vector<std::string>, xmpp::StanzaError> read_jids(const xml::Element* list) {
  std::vector<std::string> out;
  if (!list) return out;
  for (const auto* jid : list->children()) {
    if (jid->name() != "jid") continue;
    auto parsed = xmpp::Jid::parse(jid->text());
    if (!parsed) return xmpp::StanzaError(xmpp::StanzaCondition::kBadRequest, "not a JID: " + jid->text());
    out.push_back(parsed->to_string());
  }
  return out;
}

}  // namespace

bool is_archivable(const xml::Element& message) {
  if (message.name() != "message") return false;
  const auto type = message.attr_or("type", "normal");
  if (type == "error") return false;
  if (message.child("no-store", kHintsNs) || message.child("no-permanent-store", kHintsNs))
    return false;
  if (message.child("store", kHintsNs)) return true;
  if (type != "chat" && type != "normal") return false;  // groupchat, headline
  return message.child("body") != nullptr || has_encrypted_payload(message);
}

Decision decide(const storage::ArchivePrefs& prefs, const xmpp::Jid& peer) {
  if (listed(prefs.never, peer)) return Decision::kSkip;
  if (listed(prefs.always, peer)) return Decision::kArchive;
  if (prefs.default_mode == "never") return Decision::kSkip;
  if (prefs.default_mode == "roster") return Decision::kIfInRoster;
  return Decision::kArchive;
}

std::variant<storage::ArchivePrefs, xmpp::StanzaError> parse_prefs(const xml::Element& el) {
  storage::ArchivePrefs prefs;
  prefs.default_mode = std::string(el.attr_or("default"));
  if (prefs.default_mode != "always" && prefs.default_mode != "never" &&
      prefs.default_mode != "roster")
    return xmpp::StanzaError(xmpp::StanzaCondition::kBadRequest,
                             "default must be always, never or roster");
  auto always = read_jids(el.child("always", kNs));
  if (auto* err = std::get_if<xmpp::StanzaError>(&always)) return *err;
  auto never = read_jids(el.child("never", kNs));
  if (auto* err = std::get_if<xmpp::StanzaError>(&never)) return *err;
  prefs.always = std::move(std::get<0>(always));
  prefs.never = std::move(std::get<0>(never));
  for (auto* list : {&prefs.always, &prefs.never}) {
    std::sort(list->begin(), list->end());
    list->erase(std::unique(list->begin(), list->end()), list->end());
  }
  // A JID in both lists is "never" (as the store keeps it).
  std::erase_if(prefs.always, [&](const std::string& j) {
    return std::binary_search(prefs.never.begin(), prefs.never.end(), j);
  });
  return prefs;
}

xml::Element prefs_element(const storage::ArchivePrefs& prefs) {
  xml::Element el("prefs", std::string(kNs));
  el.set_attr("default", prefs.default_mode);
  for (auto [name, list] : {std::pair{"always", &prefs.always}, {"never", &prefs.never}}) {
    auto& l = el.add_child(name);
    for (const auto& jid : *list) l.add_child("jid").add_text(jid);
  }
  return el;
}

void remove_stanza_ids(xml::Element& message, const std::string& by) {
  auto& nodes = message.nodes();
  std::erase_if(nodes, [&](const xml::Node& n) {
    return !n.is_text() && n.element->name() == "stanza-id" && n.element->ns() == kStanzaIdNs &&
           n.element->attr_or("by") == by;
  });
}

void add_stanza_id(xml::Element& message, const std::string& by, const std::string& id) {
  auto& sid = message.add_child("stanza-id", std::string(kStanzaIdNs));
  sid.set_attr("by", by);
  sid.set_attr("id", id);
}

}  // namespace tern::modules::mam
