// Loading tern.toml: parse with toml11, then walk the document against the
// option declarations (config_options.cc), collecting every problem with its
// line instead of stopping at the first, so that one `tern config check`
// run shows everything to fix. This is the only file that includes toml11.
#include "core/config.h"

#include <toml.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include "core/config_checks.h"
#include "core/config_options.h"
#include "xmpp/jid.h"

namespace tern::core {
namespace {

int line_of(const toml::value& v) { return static_cast<int>(v.location().line()); }

// Keys in sorted order: toml11 keeps tables in unordered maps, and
// diagnostics must come out the same on every run.
std::vector<std::string> sorted_keys(const toml::table& table) {
  std::vector<std::string> keys;
  keys.reserve(table.size());
  for (const auto& [key, value] : table) keys.push_back(key);
  std::sort(keys.begin(), keys.end());
  return keys;
}

std::string trim(std::string_view s) {
  std::size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return "";
  std::size_t e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

// toml11 reports a syntax error as a multi-line text:
//   [error] toml::parse_array: missing array separator `,` after a value
//    --> tern.toml
//      |
//    4 |   3
//      |   ^--- should be `,`
// Keep the headline without its "[error] toml::function:" prefix, and the
// note under the last caret, which is sometimes the only explanation.
std::string syntax_error_message(const std::string& what) {
  std::istringstream lines(what);
  std::string first;
  std::getline(lines, first);
  std::string headline = first;
  if (headline.rfind("[error]", 0) == 0) headline = headline.substr(7);
  headline = trim(headline);
  if (headline.rfind("toml::", 0) == 0) {
    std::size_t colon = headline.find(": ");
    headline = colon == std::string::npos ? "" : headline.substr(colon + 2);
  }
  std::string note;
  for (std::string line; std::getline(lines, line);) {
    std::size_t bar = line.find('|');
    if (bar == std::string::npos || trim(line.substr(0, bar)) != "") continue;
    std::string rest = trim(line.substr(bar + 1));
    if (rest.empty() || (rest[0] != '^' && rest[0] != '~')) continue;
    std::size_t text = rest.find_first_not_of("^~-");
    note = text == std::string::npos ? "" : trim(rest.substr(text));
  }
  std::string message = "syntax error";
  if (!headline.empty()) message += ": " + headline;
  if (!note.empty() && note != "here") {
    message += headline.empty() ? ": " + note : " (" + note + ")";
  }
  return message;
}

// One TOML value written back as inline TOML text, for module options:
// tables become {k = v}, arrays [a, b], scalars as toml11 prints them.
std::string inline_toml(const toml::value& v) {
  if (v.is_table()) {
    std::string out = "{";
    for (const std::string& key : sorted_keys(v.as_table())) {
      if (out.size() > 1) out += ", ";
      out += toml::format_key(key) + " = " + inline_toml(v.as_table().at(key));
    }
    return out + "}";
  }
  if (v.is_array()) {
    std::string out = "[";
    for (const toml::value& item : v.as_array()) {
      if (out.size() > 1) out += ", ";
      out += inline_toml(item);
    }
    return out + "]";
  }
  if (v.is_string()) return toml_quote(v.as_string().str);
  return toml::format(v);
}

class Loader {
 public:
  explicit Loader(std::string file) : file_(std::move(file)) { result_.config.file = file_; }

  ConfigResult run(std::string_view text) {
    toml::value root;
    try {
      std::istringstream stream{std::string(text)};
      root = toml::parse(stream, file_);
    } catch (const toml::exception& e) {
      error(static_cast<int>(e.location().line()), syntax_error_message(e.what()));
      return std::move(result_);
    } catch (const std::exception& e) {
      error(0, std::string("syntax error: ") + e.what());
      return std::move(result_);
    }
    walk_table(root, "");
    for (CrossCheckFinding& finding : cross_check(result_.config, option_lines_)) {
      error(finding.line, std::move(finding.message));
    }
    // Walk order is by key, the reader wants file order.
    std::stable_sort(result_.errors.begin(), result_.errors.end(),
                     [](const Diagnostic& a, const Diagnostic& b) { return a.line < b.line; });
    return std::move(result_);
  }

 private:
  void error(int line, std::string message) {
    result_.errors.push_back(Diagnostic{file_, line, std::move(message)});
  }

  void walk_table(const toml::value& table, const std::string& prefix) {
    for (const std::string& key : sorted_keys(table.as_table())) {
      const toml::value& value = table.as_table().at(key);
      std::string path = prefix.empty() ? key : prefix + "." + key;
      if (path == "modules") {
        if (!value.is_table()) {
          error(line_of(value), "modules: expected a table");
        } else {
          walk_modules(value);
        }
      } else if (path == "components") {
        walk_components(value);
      } else if (const OptionSpec* spec = find_option(path)) {
        apply(*spec, value);
      } else if (is_option_table(path)) {
        if (value.is_table()) {
          walk_table(value, path);
        } else {
          error(line_of(value), path + ": expected a table");
        }
      } else {
        error(line_of(value),
              (value.is_table() ? "unknown table '" : "unknown key '") + path + "'");
      }
    }
  }

  // [components."<domain>"]: one table per component, `secret` its only key.
  void walk_components(const toml::value& components) {
    if (!components.is_table()) return error(line_of(components), "components: expected a table");
    for (const std::string& domain : sorted_keys(components.as_table())) {
      const toml::value& value = components.as_table().at(domain);
      std::string path = "components." + toml::format_key(domain);
      auto jid = xmpp::Jid::parse(domain);
      if (!jid || jid->has_node() || jid->has_resource() || jid->domain() != domain) {
        error(line_of(value), path + ": not a domain name");
        continue;
      }
      if (!value.is_table()) {
        error(line_of(value), path + ": expected a table with a secret");
        continue;
      }
      for (const auto& key : sorted_keys(value.as_table()))
        if (key != "secret") error(line_of(value.as_table().at(key)), "unknown key '" + path + "." + key + "'");
      auto secret = value.as_table().find("secret");
      if (secret == value.as_table().end() || !secret->second.is_string() ||
          secret->second.as_string().str.empty()) {
        error(line_of(value), path + ".secret: a non-empty string is required");
        continue;
      }
      result_.config.component_secrets[domain] = secret->second.as_string().str;
    }
  }

  // [modules]: `enabled` is a declared option; every sub-table belongs to
  // the module of that name, which validates its own keys later.
  void walk_modules(const toml::value& modules) {
    for (const std::string& key : sorted_keys(modules.as_table())) {
      const toml::value& value = modules.as_table().at(key);
      std::string path = "modules." + key;
      if (const OptionSpec* spec = find_option(path)) {
        apply(*spec, value);
        continue;
      }
      if (!value.is_table()) {
        error(line_of(value), "unknown key '" + path + "'");
        continue;
      }
      std::string name = key;
      if (std::string why = check_module_name(name); !why.empty()) {
        error(line_of(value), path + ": " + why);
        continue;
      }
      // Make the table exist even when it is empty: "[modules.ping]" alone
      // is how one says "ping, with its defaults".
      result_.config.module_options[key];
      result_.config.module_option_lines[key];
      store_module_options(key, value, "");
    }
  }

  void store_module_options(const std::string& module, const toml::value& table,
                            const std::string& prefix) {
    for (const std::string& key : sorted_keys(table.as_table())) {
      const toml::value& value = table.as_table().at(key);
      std::string flat = prefix + toml::format_key(key);
      if (value.is_table()) {
        store_module_options(module, value, flat + ".");
      } else {
        result_.config.module_options[module][flat] = inline_toml(value);
        result_.config.module_option_lines[module][flat] = line_of(value);
      }
    }
  }

  void apply(const OptionSpec& spec, const toml::value& value) {
    option_lines_[std::string(spec.path)] = line_of(value);
    std::string path(spec.path);
    Config& config = result_.config;
    bool stored = false;
    struct Visitor {
      Loader& loader;
      const OptionSpec& spec;
      const toml::value& value;
      const std::string& path;
      Config& config;
      bool& stored;
      void operator()(StringField field) {
        if (!value.is_string()) return loader.error(line_of(value), path + ": expected a string");
        std::string s = value.as_string().str;
        if (spec.check != nullptr) {
          if (std::string why = spec.check(s); !why.empty()) {
            return loader.error(line_of(value), path + ": " + why);
          }
        }
        field(config) = std::move(s);
        stored = true;
      }
      void operator()(BoolField field) {
        if (!value.is_boolean()) {
          return loader.error(line_of(value), path + ": expected true or false");
        }
        field(config) = value.as_boolean();
        stored = true;
      }
      void operator()(IntField field) {
        if (auto n = bounded_integer()) {
          field(config) = *n;
          stored = true;
        }
      }
      void operator()(SmallIntField field) {
        if (auto n = bounded_integer()) {
          field(config) = static_cast<int>(*n);  // bounds keep it in range
          stored = true;
        }
      }
      void operator()(ListField field) {
        if (!value.is_array()) {
          return loader.error(line_of(value), path + ": expected a list of strings");
        }
        std::vector<std::string> items;
        bool ok = true;
        for (const toml::value& item : value.as_array()) {
          if (!item.is_string()) {
            loader.error(line_of(item), path + ": expected a list of strings");
            return;
          }
          std::string s = item.as_string().str;
          if (spec.check != nullptr) {
            if (std::string why = spec.check(s); !why.empty()) {
              loader.error(line_of(item), path + ": " + why);
              ok = false;  // keep going: report every bad entry
            }
          }
          items.push_back(std::move(s));
        }
        if (!ok) return;
        if (spec.list_check != nullptr) {
          if (std::string why = spec.list_check(items); !why.empty()) {
            return loader.error(line_of(value), path + ": " + why);
          }
        }
        field(config) = std::move(items);
        stored = true;
      }
      std::optional<std::int64_t> bounded_integer() {
        if (!value.is_integer()) {
          loader.error(line_of(value), path + ": expected an integer");
          return std::nullopt;
        }
        std::int64_t n = value.as_integer();
        if (n < spec.min || n > spec.max) {
          loader.error(line_of(value), path + ": must be between " + std::to_string(spec.min) +
                                           " and " + std::to_string(spec.max));
          return std::nullopt;
        }
        return n;
      }
    };
    std::visit(Visitor{*this, spec, value, path, config, stored}, spec.field);
    if (stored && spec.on_set != nullptr) spec.on_set(config);
  }

  std::string file_;
  ConfigResult result_;
  // Line where each option was set, for errors found after the walk.
  std::map<std::string, int, std::less<>> option_lines_;
};

}  // namespace

std::string Config::sqlite_path() const {
  return storage_url.empty() ? data_dir + "/tern.db" : storage_url;
}

std::string Diagnostic::to_string() const {
  std::string out = file;
  if (line > 0) out += (out.empty() ? "" : ":") + std::to_string(line);
  if (!out.empty()) out += ": ";
  return out + message;
}

ConfigResult parse_config(std::string_view text, const std::string& file) {
  return Loader(file).run(text);
}

ConfigResult load_config(const std::string& path) {
  if (path.empty()) return ConfigResult{};
  auto failure = [&path](std::string message) {
    ConfigResult result;
    result.config.file = path;
    result.errors.push_back(Diagnostic{path, 0, std::move(message)});
    return result;
  };
  std::error_code ec;
  // An ifstream opens a directory and then throws on the first read.
  if (std::filesystem::is_directory(path, ec))
    return failure("cannot open " + path + ": is a directory");
  std::ifstream in(path, std::ios::binary);
  // errno says why ("No such file or directory", "Permission denied").
  if (!in) return failure("cannot open " + path + ": " + std::strerror(errno));
  std::string text;
  try {
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  } catch (const std::exception&) {
    return failure("cannot read " + path);
  }
  if (in.bad()) return failure("cannot read " + path);
  return parse_config(text, path);
}

}  // namespace tern::core
