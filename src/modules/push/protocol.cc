// The pure parts of XEP-0357: checking <enable/> and <disable/>, the stored
// list of registrations, and the notification a message turns into.
#include <algorithm>

#include "modules/push/protocol.h"
#include "xmpp/namespaces.h"
#include "xml/parse_element.h"
#include "xml/serializer.h"

namespace tern::modules::push {
namespace {

using xmpp::StanzaCondition;
using xmpp::StanzaError;

// End-to-end encrypted payloads: the message has no readable body but is
// worth waking the phone for.
constexpr std::string_view kEncryptedPayloads[][2] = {
    {"encrypted", "eu.siacs.conversations.axolotl"},  // OMEMO (XEP-0384 0.3)
    {"encrypted", "urn:xmpp:omemo:2"},                 // OMEMO 2
    {"openpgp", "urn:xmpp:openpgp:0"},                 // XEP-0373
    {"x", "jabber:x:encrypted"},                       // XEP-0027
};

// The value of the form field `var`, or nothing.
const xml::Element* form_field(const xml::Element& form, std::string_view var) {
  for (const auto* field : form.children())
    if (field->name() == "field" && field->attr_or("var") == var) return field;
  return nullptr;
}

std::string form_type(const xml::Element& form) {
  const auto* field = form_field(form, "FORM_TYPE");
  return field ? field->child_text("value", kDataNs) : std::string();
}

void add_field(xml::Element& form, std::string_view var, std::string_view value,
               std::string_view type = {}) {
  auto& field = form.add_child("field", std::string(kDataNs));
  field.set_attr("var", var);
  if (!type.empty()) field.set_attr("type", type);
  field.add_child("value", std::string(kDataNs)).add_text(value);
}

// The 'jid' attribute, normalised; an error when missing or malformed.
std::variant<std::string, StanzaError> app_server_jid(const xml::Element& el) {
  const auto attr = el.attr("jid");
  if (!attr || attr->empty()) return StanzaError(StanzaCondition::kBadRequest, "missing 'jid'");
  auto jid = xmpp::Jid::parse(*attr);
  if (!jid) return StanzaError(StanzaCondition::kJidMalformed, "malformed 'jid'");
  return jid->to_string();
}

}  // namespace

std::variant<Registration, StanzaError> parse_enable(const xml::Element& enable) {
  auto jid = app_server_jid(enable);
  if (auto* err = std::get_if<StanzaError>(&jid)) return *err;
  Registration r{std::get<std::string>(jid), std::string(enable.attr_or("node")), std::nullopt};
  for (const auto* child : enable.children()) {
    if (child->name() != "x" || child->ns() != kDataNs) continue;
    if (r.publish_options)
      return StanzaError(StanzaCondition::kBadRequest, "more than one data form");
    // §5: the only form an <enable/> carries is publish options.
    if (form_type(*child) != kPublishOptionsType)
      return StanzaError(StanzaCondition::kBadRequest,
                         "the data form's FORM_TYPE must be " + std::string(kPublishOptionsType));
    r.publish_options = *child;
  }
  return r;
}

std::variant<Registration, StanzaError> parse_disable(const xml::Element& disable) {
  auto jid = app_server_jid(disable);
  if (auto* err = std::get_if<StanzaError>(&jid)) return *err;
  return Registration{std::get<std::string>(jid), std::string(disable.attr_or("node")), std::nullopt};
}

bool add_registration(std::vector<Registration>& list, Registration r) {
  auto same = std::find_if(list.begin(), list.end(), [&](const Registration& old) {
    return old.jid == r.jid && old.node == r.node;
  });
  if (same != list.end()) {
    *same = std::move(r);  // §5: the last request's options win
    return true;
  }
  if (list.size() >= kMaxRegistrations) return false;
  list.push_back(std::move(r));
  return true;
}

std::size_t remove_registrations(std::vector<Registration>& list, std::string_view jid,
                                 std::string_view node) {
  return std::erase_if(list, [&](const Registration& r) {
    return r.jid == jid && (node.empty() || r.node == node);
  });
}

std::string to_document(const std::vector<Registration>& list) {
  xml::Element doc("registrations", std::string(kNs));
  for (const auto& r : list) {
    auto& entry = doc.add_child("enable", std::string(kNs));
    entry.set_attr("jid", r.jid);
    entry.set_attr("node", r.node);
    if (r.publish_options) entry.add_child(*r.publish_options);
  }
  return xml::to_string(doc, "");
}

std::vector<Registration> from_document(std::string_view text) {
  std::vector<Registration> list;
  auto doc = xml::parse_element(text, ns::kClient);
  if (!doc || doc->name() != "registrations" || doc->ns() != kNs) return list;
  for (const auto* entry : doc->children()) {
    if (entry->name() != "enable") continue;
    auto parsed = parse_enable(*entry);
    if (auto* r = std::get_if<Registration>(&parsed)) list.push_back(std::move(*r));
  }
  return list;
}

bool is_notable(const xml::Element& message) {
  if (message.name() != "message") return false;
  const auto type = message.attr_or("type", "normal");
  if (type != "chat" && type != "normal") return false;
  if (message.child("body")) return true;
  for (const auto& [name, ns] : kEncryptedPayloads)
    if (message.child(name, ns)) return true;
  return false;
}

Summary summarize(const xml::Element& message, const xmpp::Jid& sender, bool include_body) {
  Summary s{sender.bare_string(), std::nullopt};
  if (include_body) {
    if (const auto* body = message.child("body")) s.body = body->text();
  }
  return s;
}

xml::Element build_publish(const xmpp::Jid& account, const Registration& to, const Summary& summary,
                           std::string_view id) {
  xml::Element iq("iq", ns::kClient);
  iq.set_attr("type", "set");
  iq.set_attr("from", account.bare_string());
  iq.set_attr("to", to.jid);
  iq.set_attr("id", id);
  auto& pubsub = iq.add_child("pubsub", std::string(kPubsubNs));
  auto& publish = pubsub.add_child("publish", std::string(kPubsubNs));
  publish.set_attr("node", to.node);
  auto& item = publish.add_child("item", std::string(kPubsubNs));
  auto& notification = item.add_child("notification", std::string(kNs));
  auto& form = notification.add_child("x", std::string(kDataNs));
  form.set_attr("type", "submit");
  add_field(form, "FORM_TYPE", kSummaryType, "hidden");
  // One per notification, as Prosody and ejabberd do: the server does not
  // know what the device has read.
  add_field(form, "message-count", "1");
  add_field(form, "last-message-sender", summary.sender);
  if (summary.body) add_field(form, "last-message-body", *summary.body);
  if (to.publish_options) {
    auto& options = pubsub.add_child("publish-options", std::string(kPubsubNs));
    auto& submitted = options.add_child(*to.publish_options);
    // XEP-0060 §7.1.5: publish options are a submitted form.
    submitted.set_attr("type", "submit");
  }
  return iq;
}

}  // namespace tern::modules::push
