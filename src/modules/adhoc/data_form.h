// XEP-0004 data forms as values: built by commands, parsed from what a
// requester submits. Only the parts ad-hoc commands use (no <reported/> or
// <item/> tables).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "xml/element.h"

namespace tern::modules::adhoc {

inline constexpr const char* kDataFormsNs = "jabber:x:data";

struct FormOption {
  std::string label;
  std::string value;
};

struct FormField {
  std::string var;
  std::string type;  // text-single, jid-multi, hidden, … (empty: not given)
  std::string label;
  bool required = false;
  std::vector<std::string> values;
  std::vector<FormOption> options;
};

struct DataForm {
  std::string type = "form";  // form | submit | cancel | result
  std::string title;
  std::string instructions;
  std::vector<FormField> fields;

  const FormField* field(std::string_view var) const;
  // First value of `var`, or empty.
  std::string value(std::string_view var) const;
  // Every value of `var` (empty when the field is missing).
  std::vector<std::string> values(std::string_view var) const;
  // The hidden FORM_TYPE value (XEP-0068), or empty.
  std::string form_type() const { return value("FORM_TYPE"); }
  // Adds a field and returns it for further setup.
  FormField& add(std::string var, std::string type, std::string label = {});
};

// <x xmlns='jabber:x:data' type=…>.
xml::Element to_element(const DataForm& form);

// nullopt when `x` is not a data form XEP-0004 §3 allows: another element,
// an unknown form type, a field without 'var' (only 'fixed' fields may lack
// one), or a single-valued field type with several values.
std::optional<DataForm> parse_form(const xml::Element& x);

}  // namespace tern::modules::adhoc
