#include "modules/pubsub/subscription_options.h"

#include <array>

namespace tern::modules::pubsub {
namespace {

constexpr std::array<std::pair<std::string_view, std::string_view>, 5> kShows{{
    {"chat", "Want to Chat"},
    {"online", "Available"},
    {"away", "Away"},
    {"xa", "Extended Away"},
    {"dnd", "Do Not Disturb"},
}};

bool is_show(std::string_view v) {
  for (const auto& [value, label] : kShows)
    if (value == v) return true;
  return false;
}

// XEP-0004 §3.3 boolean: "0"/"false" or "1"/"true".
std::optional<bool> parse_bool(const std::vector<std::string>& values) {
  if (values.size() != 1) return std::nullopt;
  if (values[0] == "1" || values[0] == "true") return true;
  if (values[0] == "0" || values[0] == "false") return false;
  return std::nullopt;
}

}  // namespace

adhoc::DataForm to_form(const SubscriptionOptions& options, std::string type) {
  adhoc::DataForm form;
  form.type = std::move(type);
  form.add("FORM_TYPE", "hidden").values = {kSubscribeOptionsFormType};
  form.add("pubsub#deliver", "boolean", "Enable delivery?").values = {options.deliver ? "1" : "0"};
  form.add("pubsub#digest", "boolean", "Receive digest notifications (not supported)").values = {"0"};
  form.add("pubsub#include_body", "boolean", "Receive message body in addition to payload?").values = {
      options.include_body ? "1" : "0"};
  auto& shows = form.add("pubsub#show-values", "list-multi",
                         "Select the presence types which are allowed to receive event notifications");
  for (const auto& [value, label] : kShows) {
    shows.options.push_back({std::string(label), std::string(value)});
    if (options.show_values.count(std::string(value))) shows.values.emplace_back(value);
  }
  return form;
}

std::optional<std::string> apply_form(SubscriptionOptions& options, const adhoc::DataForm& form) {
  if (form.type == "cancel") return std::nullopt;
  if (!form.form_type().empty() && form.form_type() != kSubscribeOptionsFormType)
    return "not a pubsub#subscribe_options form";
  SubscriptionOptions out = options;
  for (const auto& field : form.fields) {
    if (field.var == "pubsub#deliver" || field.var == "pubsub#include_body" ||
        field.var == "pubsub#digest") {
      auto b = parse_bool(field.values);
      if (!b) return "bad boolean for " + field.var;
      if (field.var == "pubsub#deliver") out.deliver = *b;
      else if (field.var == "pubsub#include_body") out.include_body = *b;
      else if (*b) return "digests are not supported";
    } else if (field.var == "pubsub#show-values") {
      out.show_values.clear();
      for (const auto& v : field.values) {
        if (!is_show(v)) return "unknown show value " + v;
        out.show_values.insert(v);
      }
    }
  }
  options = std::move(out);
  return std::nullopt;
}

std::string serialize(const SubscriptionOptions& options) {
  if (options == SubscriptionOptions{}) return {};
  std::string out = options.deliver ? "deliver=1" : "deliver=0";
  out += options.include_body ? ";body=1" : ";body=0";
  out += ";show=";
  bool first = true;
  for (const auto& s : options.show_values) {
    if (!first) out += ',';
    out += s;
    first = false;
  }
  return out;
}

SubscriptionOptions deserialize_options(std::string_view text) {
  SubscriptionOptions o;
  while (!text.empty()) {
    const auto semi = text.find(';');
    std::string_view part = text.substr(0, semi);
    text = semi == std::string_view::npos ? std::string_view() : text.substr(semi + 1);
    const auto eq = part.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string_view key = part.substr(0, eq);
    std::string_view value = part.substr(eq + 1);
    if (key == "deliver") o.deliver = value != "0";
    else if (key == "body") o.include_body = value == "1";
    else if (key == "show") {
      while (!value.empty()) {
        const auto comma = value.find(',');
        std::string_view s = value.substr(0, comma);
        if (is_show(s)) o.show_values.emplace(s);
        value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
      }
    }
  }
  return o;
}

bool wants_with_show(const SubscriptionOptions& options, std::string_view show) {
  if (options.show_values.empty()) return true;
  return options.show_values.count(std::string(show.empty() ? "online" : show)) > 0;
}

}  // namespace tern::modules::pubsub
