#include "modules/pep/bookmarks.h"

namespace tern::modules::pep::bookmarks {
namespace {

bool is_true(std::string_view v) { return v == "true" || v == "1"; }

}  // namespace

std::optional<Bookmark> from_item(const std::string& id, const xml::Element& conference) {
  if (conference.name() != "conference" || conference.ns() != kNode || id.empty()) return std::nullopt;
  Bookmark b;
  b.jid = id;
  b.name = std::string(conference.attr_or("name"));
  b.autojoin = is_true(conference.attr_or("autojoin"));
  b.nick = conference.child_text("nick", kNode);
  b.password = conference.child_text("password", kNode);
  if (const auto* ext = conference.child("extensions", kNode)) b.extensions = *ext;
  return b;
}

xml::Element to_conference(const Bookmark& b) {
  xml::Element c("conference", kNode);
  if (!b.name.empty()) c.set_attr("name", b.name);
  if (b.autojoin) c.set_attr("autojoin", "true");
  if (!b.nick.empty()) c.add_child("nick").add_text(b.nick);
  if (!b.password.empty()) c.add_child("password").add_text(b.password);
  if (b.extensions) c.add_child(*b.extensions);
  return c;
}

std::vector<Bookmark> from_storage(const xml::Element& storage, std::vector<xml::Element>* urls) {
  std::vector<Bookmark> out;
  if (storage.name() != "storage" || storage.ns() != kLegacyNs) return out;
  for (const auto* child : storage.children()) {
    if (child->name() == "url") {
      if (urls) urls->push_back(*child);
      continue;
    }
    if (child->name() != "conference" || child->attr_or("jid").empty()) continue;
    Bookmark b;
    b.jid = std::string(child->attr_or("jid"));
    b.name = std::string(child->attr_or("name"));
    b.autojoin = is_true(child->attr_or("autojoin"));
    b.nick = child->child_text("nick", kLegacyNs);
    b.password = child->child_text("password", kLegacyNs);
    out.push_back(std::move(b));
  }
  return out;
}

xml::Element to_storage(const std::vector<Bookmark>& bookmarks, const std::vector<xml::Element>& urls) {
  xml::Element s("storage", kLegacyNs);
  for (const auto& b : bookmarks) {
    auto& c = s.add_child("conference");
    c.set_attr("jid", b.jid);
    if (!b.name.empty()) c.set_attr("name", b.name);
    c.set_attr("autojoin", b.autojoin ? "true" : "false");
    if (!b.nick.empty()) c.add_child("nick").add_text(b.nick);
    if (!b.password.empty()) c.add_child("password").add_text(b.password);
  }
  for (const auto& u : urls) s.add_child(u);
  return s;
}

}  // namespace tern::modules::pep::bookmarks
