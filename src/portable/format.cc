#include "portable/format.h"

#include <algorithm>
#include <charconv>

#include "modules/roster/item.h"
#include "modules/vcard/vcard.h"
#include "xmpp/namespaces.h"
#include "xml/parse_element.h"
#include "xml/serializer.h"
#include "xmpp/jid.h"

namespace tern::portable {
namespace {

constexpr std::string_view kPrivateNs = "jabber:iq:private";

std::size_t key_size(sasl::Hash h) { return h == sasl::Hash::kSha1 ? 20 : 32; }

std::string describe(const xml::Element& el) { return "<" + el.name() + " xmlns='" + el.ns() + "'>"; }

using Bytes = std::optional<std::string>;

// ejabberd (23.01 at least) writes the base64 of the base64 it stores, for
// the salt and both keys. Keys that have the right size only after a second
// decoding are that, and the salt then gets its second decoding too.
void undo_double_base64(Bytes& salt, Bytes& server_key, Bytes& stored_key, std::size_t size) {
  if (!salt || !server_key || !stored_key || server_key->size() == size) return;
  Bytes salt2 = sasl::base64_decode(*salt);
  Bytes server2 = sasl::base64_decode(*server_key);
  Bytes stored2 = sasl::base64_decode(*stored_key);
  if (!salt2 || !server2 || !stored2 || server2->size() != size || stored2->size() != size) return;
  salt = std::move(salt2);
  server_key = std::move(server2);
  stored_key = std::move(stored2);
}

// <scram-credentials/>: every field present and of the right size, or
// nothing (a half-read key set would lock the user out more quietly).
std::optional<sasl::ScramCredentials> read_scram(const xml::Element& el, sasl::Hash h,
                                                 std::vector<std::string>& warnings) {
  sasl::ScramCredentials c;
  const std::string iterations = el.child_text("iter-count", kScramNs);
  auto [end, ec] =
      std::from_chars(iterations.data(), iterations.data() + iterations.size(), c.iterations);
  Bytes salt = sasl::base64_decode(el.child_text("salt", kScramNs));
  Bytes server_key = sasl::base64_decode(el.child_text("server-key", kScramNs));
  Bytes stored_key = sasl::base64_decode(el.child_text("stored-key", kScramNs));
  undo_double_base64(salt, server_key, stored_key, key_size(h));
  if (ec != std::errc() || end != iterations.data() + iterations.size() || c.iterations < 1 ||
      !salt || salt->empty() || !server_key || server_key->size() != key_size(h) || !stored_key ||
      stored_key->size() != key_size(h)) {
    warnings.push_back("malformed <scram-credentials mechanism='" +
                       std::string(el.attr_or("mechanism")) + "'>");
    return std::nullopt;
  }
  c.salt = std::move(*salt);
  c.server_key = std::move(*server_key);
  c.stored_key = std::move(*stored_key);
  return c;
}

void read_roster(const xml::Element& query, User& user) {
  for (const xml::Element* item : query.children()) {
    if (item->name() != "item") continue;
    auto jid = xmpp::Jid::parse(item->attr_or("jid"));
    if (!jid || jid->has_resource()) {
      user.warnings.push_back("roster item with a bad jid '" + std::string(item->attr_or("jid")) +
                              "'");
      continue;
    }
    storage::RosterItem out;
    out.jid = jid->bare_string();
    out.name = item->attr_or("name");
    out.subscription = item->attr_or("subscription", "none");
    if (out.subscription == "remove") continue;
    if (out.subscription != "none" && out.subscription != "to" && out.subscription != "from" &&
        out.subscription != "both") {
      user.warnings.push_back("roster item " + out.jid + ": subscription '" + out.subscription +
                              "' read as 'none'");
      out.subscription = "none";
    }
    out.ask_out = item->attr_or("ask") == "subscribe";
    const auto approved = item->attr_or("approved");
    out.approved = approved == "true" || approved == "1";
    for (const xml::Element* group : item->children()) {
      if (group->name() != "group") continue;
      std::string name = group->text();
      if (name.empty() ||
          std::find(out.groups.begin(), out.groups.end(), name) != out.groups.end())
        continue;
      out.groups.push_back(std::move(name));
    }
    auto same = [&](const storage::RosterItem& r) { return r.jid == out.jid; };
    if (std::find_if(user.roster.begin(), user.roster.end(), same) != user.roster.end()) {
      user.warnings.push_back("roster item " + out.jid + " listed twice; the first one counts");
      continue;
    }
    user.roster.push_back(std::move(out));
  }
}

void read_offline(const xml::Element& list, User& user) {
  for (const xml::Element* message : list.children()) {
    if (message->name() != "message") {
      user.warnings.push_back("ignored " + describe(*message) + " in <offline-messages>");
      continue;
    }
    xml::Element copy = *message;
    // Some exporters leave the stanza in the file's namespace.
    if (copy.ns() != ns::kClient) copy.set_ns(ns::kClient);
    // Serialized as the offline module does, so a stored copy compares equal.
    user.offline.push_back(xml::to_string(copy, ns::kClient));
  }
}

}  // namespace

bool is_portable_ns(std::string_view ns) { return ns == kNs || ns == kLegacyNs; }

ReadUser read_user(const xml::Element& el) {
  ReadUser result;
  auto name = el.attr("name");
  if (!name || name->empty()) {
    result.error = "<user/> without a name";
    return result;
  }
  User user;
  user.name = std::string(*name);
  if (auto password = el.attr("password"); password && !password->empty())
    user.password = std::string(*password);
  for (const xml::Element* child : el.children()) {
    const std::string& n = child->name();
    const std::string& ns = child->ns();
    if (n == "scram-credentials" && ns == kScramNs) {
      const auto mechanism = child->attr_or("mechanism");
      if (mechanism == "SCRAM-SHA-1") {
        user.sha1 = read_scram(*child, sasl::Hash::kSha1, user.warnings);
      } else if (mechanism == "SCRAM-SHA-256") {
        user.sha256 = read_scram(*child, sasl::Hash::kSha256, user.warnings);
      } else {
        user.warnings.push_back("ignored SCRAM credentials for '" + std::string(mechanism) + "'");
      }
    } else if (n == "query" && ns == modules::roster::kNs) {
      read_roster(*child, user);
    } else if (n == "vCard" && ns == modules::vcard::kNs) {
      // Stored as the vcard module stores a vCard set; an empty one is none.
      if (!modules::vcard::is_empty(*child)) user.vcard = xml::to_string(*child, "");
    } else if (n == "offline-messages" && is_portable_ns(ns)) {
      read_offline(*child, user);
    } else if (n == "query" && ns == kPrivateNs && child->children().empty()) {
      // Nothing stored: nothing lost.
    } else {
      user.warnings.push_back("ignored " + describe(*child));
    }
  }
  result.user = std::move(user);
  return result;
}

namespace {

void write_scram(std::string& out, std::string_view mechanism, sasl::Hash h,
                 const sasl::ScramCredentials& c) {
  if (c.salt.empty() || c.iterations < 1 || c.stored_key.size() != key_size(h) ||
      c.server_key.size() != key_size(h))
    return;  // an account imported without these keys has none to give
  out += "<scram-credentials xmlns='";
  out += kScramNs;
  out += "' mechanism='";
  out += mechanism;
  out += "'><iter-count>";
  out += std::to_string(c.iterations);
  out += "</iter-count><salt>";
  out += sasl::base64_encode(c.salt);
  out += "</salt><server-key>";
  out += sasl::base64_encode(c.server_key);
  out += "</server-key><stored-key>";
  out += sasl::base64_encode(c.stored_key);
  out += "</stored-key></scram-credentials>";
}

}  // namespace

void write_user(std::string& out, const std::string& name,
                const storage::AccountCredentials& credentials,
                const std::vector<storage::RosterItem>& roster,
                const std::optional<std::string>& vcard, const std::vector<std::string>& offline) {
  out += "<user name='";
  xml::append_escaped_attr(out, name);
  out += "'>";
  write_scram(out, "SCRAM-SHA-1", sasl::Hash::kSha1, credentials.sha1);
  write_scram(out, "SCRAM-SHA-256", sasl::Hash::kSha256, credentials.sha256);
  xml::Element query("query", modules::roster::kNs);
  for (const storage::RosterItem& item : roster)
    if (!modules::roster::is_hidden(item)) query.add_child(modules::roster::item_element(item));
  if (!query.children().empty()) xml::serialize(out, query, kNs);
  // Both stored by their modules as serialized XML: parsed back so that they
  // are written with the namespaces this position in the file needs.
  if (vcard) {
    if (auto el = xml::parse_element(*vcard, ns::kClient)) xml::serialize(out, *el, kNs);
  }
  if (!offline.empty()) {
    out += "<offline-messages>";
    for (const std::string& stanza : offline)
      if (auto el = xml::parse_element(stanza, ns::kClient)) xml::serialize(out, *el, kNs);
    out += "</offline-messages>";
  }
  out += "</user>\n";
}

}  // namespace tern::portable
