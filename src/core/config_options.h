// The declaration table behind tern.toml: one entry per option, read by the
// loader (config.cc), the reference generator and the example generator.
// Internal to the config code; the rest of the server reads Config.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/config.h"

namespace tern::core {

enum class OptionType { kString, kBool, kInteger, kStringList };

// Returns "" when `value` is acceptable, else why not ("'x' is not a valid
// domain"). May normalise the value in place (domains are lowercased).
using ValueCheck = std::string (*)(std::string& value);
// Checks a whole list once its elements passed (non-empty, no duplicates).
using ListCheck = std::string (*)(const std::vector<std::string>& value);

// Where an option lives in Config. A reference accessor serves both the
// loader (write) and the generators (read the default from a fresh Config).
using StringField = std::string& (*)(Config&);
using BoolField = bool& (*)(Config&);
using IntField = std::int64_t& (*)(Config&);
using SmallIntField = int& (*)(Config&);
using ListField = std::vector<std::string>& (*)(Config&);
using Field = std::variant<StringField, BoolField, IntField, SmallIntField, ListField>;

struct OptionSpec {
  std::string_view path;  // "limits.max_stanza_bytes"
  Field field;
  std::string_view doc;  // one line, ends without a period
  std::int64_t min = 0;  // integer bounds, inclusive
  std::int64_t max = 0;
  ValueCheck check = nullptr;      // per string / per list element
  ListCheck list_check = nullptr;  // whole list
  // Runs after the value was stored (modules.enabled sets modules_set).
  void (*on_set)(Config&) = nullptr;
  // When the default cannot be written as a value ("every built-in module"):
  // shown in the reference, and the example file leaves the option commented.
  std::string_view default_note = {};
  std::string_view example = {};  // value for the commented example line

  OptionType type() const;
  std::string_view table() const;  // "limits"
  std::string_view key() const;    // "max_stanza_bytes"
};

// Every option, grouped by table in the order they should be documented.
std::span<const OptionSpec> config_options();
// nullptr when `path` is not a declared option.
const OptionSpec* find_option(std::string_view path);
// Whether `path` names a table that holds declared options ("listen").
bool is_option_table(std::string_view path);

// The TOML text of the option's default ("[\"[::]:5222\"]", "true", "64").
std::string default_toml(const OptionSpec& spec);

// Cross-option checks that a single declaration cannot express. `lines`
// maps each option set in the file to its line; a finding is reported at the
// option the user wrote, so that its line can be shown.
struct CrossCheckFinding {
  int line = 0;
  std::string message;  // "tls.key: must be set when tls.cert is set"
};
std::vector<CrossCheckFinding> cross_check(const Config& config,
                                           const std::map<std::string, int, std::less<>>& lines);

}  // namespace tern::core
