#include "modules/adhoc/data_form.h"

namespace tern::modules::adhoc {
namespace {

bool is_form_type(std::string_view t) {
  return t == "form" || t == "submit" || t == "cancel" || t == "result";
}

// XEP-0004 §3.2: only these field types may carry more than one <value/>.
bool is_multi_valued(std::string_view t) {
  return t == "list-multi" || t == "jid-multi" || t == "text-multi" || t == "hidden";
}

}  // namespace

const FormField* DataForm::field(std::string_view var) const {
  for (const auto& f : fields)
    if (f.var == var) return &f;
  return nullptr;
}

std::string DataForm::value(std::string_view var) const {
  const auto* f = field(var);
  if (!f || f->values.empty()) return {};
  return f->values.front();
}

std::vector<std::string> DataForm::values(std::string_view var) const {
  const auto* f = field(var);
  if (!f) return {};
  return f->values;
}

FormField& DataForm::add(std::string var, std::string type, std::string label) {
  FormField f;
  f.var = std::move(var);
  f.type = std::move(type);
  f.label = std::move(label);
  fields.push_back(std::move(f));
  return fields.back();
}

xml::Element to_element(const DataForm& form) {
  xml::Element x("x", kDataFormsNs);
  x.set_attr("type", form.type);
  if (!form.title.empty()) x.add_child("title").add_text(form.title);
  if (!form.instructions.empty()) x.add_child("instructions").add_text(form.instructions);
  for (const auto& f : form.fields) {
    auto& field = x.add_child("field");
    if (!f.type.empty()) field.set_attr("type", f.type);
    if (!f.var.empty()) field.set_attr("var", f.var);
    if (!f.label.empty()) field.set_attr("label", f.label);
    if (f.required) field.add_child("required");
    for (const auto& v : f.values) field.add_child("value").add_text(v);
    for (const auto& o : f.options) {
      auto& option = field.add_child("option");
      if (!o.label.empty()) option.set_attr("label", o.label);
      option.add_child("value").add_text(o.value);
    }
  }
  return x;
}

std::optional<DataForm> parse_form(const xml::Element& x) {
  if (x.name() != "x" || x.ns() != kDataFormsNs) return std::nullopt;
  DataForm form;
  form.type = std::string(x.attr_or("type"));
  if (!is_form_type(form.type)) return std::nullopt;
  for (const auto* child : x.children()) {
    if (child->ns() != kDataFormsNs) continue;
    if (child->name() == "title") {
      form.title = child->text();
    } else if (child->name() == "instructions") {
      if (!form.instructions.empty()) form.instructions += "\n";
      form.instructions += child->text();
    } else if (child->name() == "field") {
      FormField f;
      f.var = std::string(child->attr_or("var"));
      f.type = std::string(child->attr_or("type"));
      f.label = std::string(child->attr_or("label"));
      if (f.var.empty() && f.type != "fixed") return std::nullopt;
      for (const auto* part : child->children()) {
        if (part->ns() != kDataFormsNs) continue;
        if (part->name() == "value") {
          f.values.push_back(part->text());
        } else if (part->name() == "required") {
          f.required = true;
        } else if (part->name() == "option") {
          f.options.push_back({std::string(part->attr_or("label")), part->child_text("value")});
        }
      }
      if (!f.type.empty() && !is_multi_valued(f.type) && f.values.size() > 1) return std::nullopt;
      form.fields.push_back(std::move(f));
    }
  }
  return form;
}

}  // namespace tern::modules::adhoc
