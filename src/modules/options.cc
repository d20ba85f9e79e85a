#include "modules/options.h"

#include <algorithm>
#include <type_traits>

#include "xmpp/jid.h"

namespace tern::modules {
namespace {

// The alternatives of "a|b|c".
std::vector<std::string_view> split_choices(std::string_view choices) {
  std::vector<std::string_view> out;
  while (!choices.empty()) {
    const auto bar = choices.find('|');
    out.push_back(choices.substr(0, bar));
    choices = bar == std::string_view::npos ? std::string_view() : choices.substr(bar + 1);
  }
  return out;
}

// Undoes core::toml_quote, which is how the config loader hands strings on
// (\" \\ \n \t \uXXXX). Returns false for anything else after a backslash.
bool unescape_basic(std::string_view in, std::string& out) {
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '\\') {
      out += in[i];
      continue;
    }
    if (++i == in.size()) return false;
    switch (in[i]) {
      case '"':
      case '\\':
        out += in[i];
        break;
      case 'n':
        out += '\n';
        break;
      case 't':
        out += '\t';
        break;
      case 'u': {
        // toml_quote writes only control characters this way.
        if (i + 4 >= in.size()) return false;
        unsigned code = 0;
        for (std::size_t k = 1; k <= 4; ++k) {
          const char c = in[i + k];
          code *= 16;
          if (c >= '0' && c <= '9')
            code += c - '0';
          else if (c >= 'a' && c <= 'f')
            code += c - 'a' + 10;
          else if (c >= 'A' && c <= 'F')
            code += c - 'A' + 10;
          else
            return false;
        }
        if (code >= 0x80) return false;
        out += static_cast<char>(code);
        i += 4;
        break;
      }
      default:
        return false;
    }
  }
  return true;
}

}  // namespace

void option_error(std::string_view module, std::string_view key, std::string_view why) {
  throw std::runtime_error("modules." + std::string(module) + "." + std::string(key) + ": " +
                           std::string(why));
}

namespace {

bool parse_bool(std::string_view module, std::string_view key, const std::string& text) {
  if (text == "true") return true;
  if (text == "false") return false;
  option_error(module, key, "expected true or false");
}

std::int64_t parse_int(std::string_view module, std::string_view key, const std::string& text,
                       std::int64_t min, std::int64_t max) {
  std::int64_t v = 0;
  try {
    std::size_t used = 0;
    v = std::stoll(text, &used);
    if (used != text.size()) option_error(module, key, "expected an integer");
  } catch (const std::logic_error&) {
    option_error(module, key, "expected an integer");
  }
  if (v < min || v > max)
    option_error(module, key,
                 "must be between " + std::to_string(min) + " and " + std::to_string(max));
  return v;
}

std::string parse_string(std::string_view module, std::string_view key, const std::string& text,
                         std::string_view choices) {
  std::string value;
  const bool quoted = text.size() >= 2 && text.front() == '"' && text.back() == '"';
  const bool literal = text.size() >= 2 && text.front() == '\'' && text.back() == '\'';
  if (literal) {
    value = text.substr(1, text.size() - 2);
  } else if (!quoted || !unescape_basic(std::string_view(text).substr(1, text.size() - 2), value)) {
    option_error(module, key, "expected a string");
  }
  if (choices.empty()) return value;
  const auto allowed = split_choices(choices);
  for (std::string_view c : allowed)
    if (c == value) return value;
  // must be "a", "b" or "c"
  std::string why = "must be ";
  for (std::size_t i = 0; i < allowed.size(); ++i) {
    if (i > 0) why += i + 1 == allowed.size() ? " or " : ", ";
    why += "\"" + std::string(allowed[i]) + "\"";
  }
  option_error(module, key, why);
}

}  // namespace

void read_option(std::string_view module, const OptionInfo& info, const std::string& text,
                 std::int64_t max, OptionSlot slot) {
  std::visit(
      [&](auto* to) {
        using V = std::remove_pointer_t<decltype(to)>;
        if constexpr (std::is_same_v<V, bool>) {
          *to = parse_bool(module, info.key, text);
        } else if constexpr (std::is_same_v<V, std::string>) {
          *to = parse_string(module, info.key, text, info.choices);
        } else {
          *to = V(parse_int(module, info.key, text, info.min, max));
        }
      },
      slot);
}

std::int64_t option_int(OptionSlot slot) {
  return std::visit(
      [](auto* from) -> std::int64_t {
        using V = std::remove_pointer_t<decltype(from)>;
        if constexpr (std::is_same_v<V, std::chrono::seconds>) {
          return from->count();
        } else if constexpr (std::is_same_v<V, bool> || std::is_same_v<V, std::string>) {
          return 0;
        } else {
          return static_cast<std::int64_t>(*from);
        }
      },
      slot);
}

core::ModuleOptionDoc describe_option(const OptionInfo& info, OptionSlot slot) {
  core::ModuleOptionDoc doc{std::string(info.key), "", "", std::string(info.doc)};
  if (auto* b = std::get_if<bool*>(&slot)) {
    doc.type = "boolean";
    doc.default_toml = **b ? "true" : "false";
  } else if (auto* s = std::get_if<std::string*>(&slot)) {
    doc.type = "string";
    doc.default_toml = core::toml_quote(**s);
  } else {
    doc.type = "integer (" + std::to_string(info.min) + ".." +
               (info.max_key.empty() ? std::to_string(info.max) : std::string(info.max_key)) + ")";
    doc.default_toml = std::to_string(option_int(slot));
  }
  return doc;
}

void check_known_options(std::string_view module, const RawOptions& raw,
                         std::span<const std::string_view> keys) {
  for (const auto& [key, _] : raw)
    if (std::find(keys.begin(), keys.end(), key) == keys.end())
      option_error(module, key, "unknown option");
}

void read_no_options(std::string_view module, const RawOptions& raw) {
  if (!raw.empty()) option_error(module, raw.begin()->first, "unknown option");
}

std::string service_domain(std::string_view module, std::string_view key,
                           const std::string& pattern, const std::string& domain) {
  const std::string placeholder = "{domain}";
  std::string out = pattern;
  for (auto at = out.find(placeholder); at != std::string::npos;
       at = out.find(placeholder, at + domain.size()))
    out.replace(at, placeholder.size(), domain);
  auto name = xmpp::nameprep(out);
  if (!name) option_error(module, key, "\"" + pattern + "\" gives an invalid domain");
  return *name;
}

}  // namespace tern::modules
