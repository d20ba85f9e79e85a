#include "modules/pep/vcard4.h"

#include <array>
#include <string_view>

namespace tern::modules::pep::vcard4 {
namespace {

constexpr std::string_view kTempNs = "vcard-temp";

// vcard-temp's flag elements of EMAIL and TEL, and their vCard4 TYPE
// values (RFC 6350 §6.4.1, §6.4.2); PREF is vCard4's <pref/> parameter.
constexpr std::array<std::pair<std::string_view, std::string_view>, 8> kTypes{{
    {"HOME", "home"},
    {"WORK", "work"},
    {"VOICE", "voice"},
    {"FAX", "fax"},
    {"CELL", "cell"},
    {"VIDEO", "video"},
    {"PAGER", "pager"},
    {"MSG", "text"},
}};

// vcard-temp element → vCard4 element, for the fields with one text value.
struct SimpleField {
  std::string_view temp;
  std::string_view v4;
  std::string_view v4_value;  // the vCard4 value element: text, uri or date
};
constexpr std::array<SimpleField, 5> kSimple{{
    {"FN", "fn", "text"},
    {"NICKNAME", "nickname", "text"},
    {"URL", "url", "uri"},
    {"NOTE", "note", "text"},
    {"BDAY", "bday", "date"},
}};

void remove_all(xml::Element& e, std::string_view name, std::string_view ns) {
  while (e.remove_child(name, ns)) {
  }
}

std::string trimmed(std::string s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  const auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

// The first non-empty value of a vCard4 property: <text/>, <uri/>, or any
// other value element (<date/>, <date-time/>, …).
std::string v4_value(const xml::Element& prop) {
  for (const auto* child : prop.children())
    if (child->name() != "parameters") {
      std::string v = trimmed(child->text());
      if (!v.empty()) return v;
    }
  return {};
}

// The TYPE values and PREF of a vCard4 property's <parameters/>.
void v4_params(const xml::Element& prop, std::vector<std::string>& types, bool& pref) {
  const xml::Element* params = prop.child("parameters", kNs);
  if (!params) return;
  if (const xml::Element* type = params->child("type", kNs))
    for (const auto* t : type->children()) types.push_back(trimmed(t->text()));
  if (const xml::Element* p = params->child("pref", kNs)) pref = trimmed(p->text()) == "1";
}

// <parameters/> for the flags of a vcard-temp EMAIL or TEL.
void add_v4_params(xml::Element& prop, const xml::Element& temp) {
  std::vector<std::string_view> types;
  for (const auto& [flag, value] : kTypes)
    if (temp.child(flag, kTempNs)) types.push_back(value);
  const bool pref = temp.child("PREF", kTempNs) != nullptr;
  if (types.empty() && !pref) return;
  auto& params = prop.add_child("parameters");
  if (!types.empty()) {
    auto& type = params.add_child("type");
    for (auto t : types) type.add_child("text").add_text(t);
  }
  if (pref) params.add_child("pref").add_child("integer").add_text("1");
}

void add_temp_flags(xml::Element& temp, const xml::Element& prop) {
  std::vector<std::string> types;
  bool pref = false;
  v4_params(prop, types, pref);
  for (const auto& [flag, value] : kTypes)
    for (const auto& t : types)
      if (t == value) {
        temp.add_child(std::string(flag));
        break;
      }
  if (pref) temp.add_child("PREF");
}

}  // namespace

bool has_no_fields(const xml::Element& vcard) { return vcard.children().empty(); }

xml::Element with_fields_of_vcard_temp(const std::optional<xml::Element>& vcard,
                                       std::optional<xml::Element> vcard4) {
  xml::Element out = vcard4 ? std::move(*vcard4) : xml::Element("vcard", kNs);
  for (const auto& f : kSimple) remove_all(out, f.v4, kNs);
  remove_all(out, "email", kNs);
  remove_all(out, "tel", kNs);
  if (!vcard) return out;
  for (const auto* child : vcard->children()) {
    if (child->ns() != kTempNs) continue;
    const std::string& name = child->name();
    for (const auto& f : kSimple) {
      if (name != f.temp) continue;
      std::string v = trimmed(child->text());
      if (!v.empty()) out.add_child(std::string(f.v4)).add_child(std::string(f.v4_value)).add_text(v);
    }
    if (name == "EMAIL") {
      std::string v = trimmed(child->child_text("USERID", kTempNs));
      if (v.empty()) continue;
      auto& email = out.add_child("email");
      add_v4_params(email, *child);
      email.add_child("text").add_text(v);
    } else if (name == "TEL") {
      std::string v = trimmed(child->child_text("NUMBER", kTempNs));
      if (v.empty()) continue;
      auto& tel = out.add_child("tel");
      add_v4_params(tel, *child);
      tel.add_child("uri").add_text("tel:" + v);
    }
  }
  return out;
}

xml::Element with_fields_of_vcard4(const xml::Element& vcard4, std::optional<xml::Element> vcard) {
  xml::Element out = vcard ? std::move(*vcard) : xml::Element("vCard", std::string(kTempNs));
  for (const auto& f : kSimple) remove_all(out, f.temp, kTempNs);
  remove_all(out, "EMAIL", kTempNs);
  remove_all(out, "TEL", kTempNs);
  for (const auto* child : vcard4.children()) {
    if (child->ns() != kNs) continue;
    const std::string& name = child->name();
    const std::string v = v4_value(*child);
    if (v.empty()) continue;
    for (const auto& f : kSimple)
      if (name == f.v4) out.add_child(std::string(f.temp)).add_text(v);
    if (name == "email") {
      auto& email = out.add_child("EMAIL");
      email.add_child("INTERNET");
      add_temp_flags(email, *child);
      email.add_child("USERID").add_text(v);
    } else if (name == "tel") {
      auto& tel = out.add_child("TEL");
      add_temp_flags(tel, *child);
      tel.add_child("NUMBER").add_text(v.starts_with("tel:") ? v.substr(4) : v);
    }
  }
  return out;
}

}  // namespace tern::modules::pep::vcard4
