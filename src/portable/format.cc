#include "portable/format.h"

#include <algorithm>
#include <charconv>

#include "xml/parse_element.h"
#include "xml/serializer.h"
#include "xmpp/namespaces.h"

namespace tern::portable {
namespace {

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

// A section may own several children of one <user/>: they share its data.
void read_section(const Section& section, const xml::Element& child, User& user) {
  auto same = [&](const SectionRead& r) { return r.section == &section; };
  auto it = std::find_if(user.sections.begin(), user.sections.end(), same);
  if (it == user.sections.end())
    it = user.sections.insert(user.sections.end(), SectionRead{&section, section.start_import()});
  it->data->read(child, user.warnings);
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

ReadUser read_user(const xml::Element& el, const SectionRegistry& sections) {
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
    } else if (n == "offline-messages" && is_portable_ns(ns)) {
      read_offline(*child, user);
    } else if (const Section* section = sections.find(n, ns)) {
      read_section(*section, *child, user);
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

void begin_user(std::string& out, const std::string& name,
                const storage::AccountCredentials& credentials) {
  out += "<user name='";
  xml::append_escaped_attr(out, name);
  out += "'>";
  write_scram(out, "SCRAM-SHA-1", sasl::Hash::kSha1, credentials.sha1);
  write_scram(out, "SCRAM-SHA-256", sasl::Hash::kSha256, credentials.sha256);
}

void end_user(std::string& out, const std::vector<std::string>& offline) {
  // Stored by the offline module as serialized XML: parsed back so that
  // they are written with the namespaces this position in the file needs.
  if (!offline.empty()) {
    out += "<offline-messages>";
    for (const std::string& stanza : offline)
      if (auto el = xml::parse_element(stanza, ns::kClient)) xml::serialize(out, *el, kNs);
    out += "</offline-messages>";
  }
  out += "</user>\n";
}

}  // namespace tern::portable
