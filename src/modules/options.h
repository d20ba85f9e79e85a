// A module's options: one plain struct (its members' initializers are the
// defaults) and one list of fields that says, once per option, its key in
// [modules.<name>], the member it fills, its bounds and its one line of doc.
// read_options fills the struct at start; the same list documents the
// options (`tern config reference`, tern.example.toml) through
// ModuleInfo::options, so the code and the docs cannot drift apart.
//
//   struct PingOptions { std::int64_t every = 60; bool reply = true; };
//   constexpr OptionField<PingOptions> kPingOptions[] = {
//       option("every", &PingOptions::every, 1, 3600, "Seconds between pings"),
//       option("reply", &PingOptions::reply, "Answer pings"),
//   };
//   auto opts = read_options("ping", ctx.options, kPingOptions);
//   TERN_MODULE("ping", "XEP-0199 XMPP Ping", &start_ping, 50, kPingOptions);
//
// Values arrive as TOML text (core::Config::module_options). A bad value or
// an unknown key stops the server at start with a message naming the option:
// "modules.ping.every: must be between 1 and 3600".
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <map>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "core/config.h"

namespace tern::modules {

// A module's own [modules.<name>] table: flattened key → TOML text.
using RawOptions = std::map<std::string, std::string>;

// What an option is, apart from the member it fills.
struct OptionInfo {
  std::string_view key;
  std::string_view doc;  // one line, without a final period
  // Integers: inclusive bounds. `max_key` names another integer option of
  // the same table whose value is the upper bound instead of `max`
  // (muc's default_history ≤ max_history).
  std::int64_t min = 0;
  std::int64_t max = 0;
  std::string_view max_key = {};
  // Strings: the values allowed, '|' between them; empty allows any.
  std::string_view choices = {};
};

// The member an option fills: integers of these widths, seconds for a
// duration written as a number of seconds.
template <class T>
using OptionMember = std::variant<bool T::*, std::string T::*, int T::*, std::int64_t T::*,
                                  std::size_t T::*, std::chrono::seconds T::*>;
// That member in one struct. The templates below only find the member;
// reading, bounds and formatting are out of line (options.cc), so that each
// module's instantiation stays a few lines.
using OptionSlot =
    std::variant<bool*, std::string*, int*, std::int64_t*, std::size_t*, std::chrono::seconds*>;

template <class T>
struct OptionField {
  using Struct = T;
  OptionInfo info;
  OptionMember<T> member;
};

// A boolean or free string option.
template <class T>
constexpr OptionField<T> option(std::string_view key, bool T::*member, std::string_view doc) {
  return {.info = {.key = key, .doc = doc}, .member = member};
}
template <class T>
constexpr OptionField<T> option(std::string_view key, std::string T::*member,
                                std::string_view doc) {
  return {.info = {.key = key, .doc = doc}, .member = member};
}

namespace detail {
template <class I>
struct OptionRep {
  using type = I;
};
template <>
struct OptionRep<std::chrono::seconds> {
  using type = std::chrono::seconds::rep;
};
}  // namespace detail

// An integer option between `min` and `max`. Bounds that the member cannot
// hold are a compile error where the field list is constexpr.
template <class T, class I>
constexpr OptionField<T> option(std::string_view key, I T::*member, std::int64_t min,
                                std::int64_t max, std::string_view doc) {
  using Rep = typename detail::OptionRep<I>::type;
  static_assert(std::is_integral_v<Rep> && !std::is_same_v<Rep, bool>);
  if (min > max) throw std::logic_error("option bounds: min > max");
  if (std::is_unsigned_v<Rep> && min < 0) throw std::logic_error("option bounds: unsigned member");
  if (max > 0 && static_cast<std::uint64_t>(max) > std::uint64_t(std::numeric_limits<Rep>::max()))
    throw std::logic_error("option bounds: max does not fit the member");
  return {.info = {.key = key, .doc = doc, .min = min, .max = max}, .member = member};
}

// An integer option between `min` and the value of option `max_key` (which
// bounds it only when it is set; the default is the module's business).
template <class T, class I>
constexpr OptionField<T> option(std::string_view key, I T::*member, std::int64_t min,
                                std::string_view max_key, std::string_view doc) {
  auto field = option(key, member, min, min, doc);
  field.info.max_key = max_key;
  return field;
}

// A string option that must be one of `choices` ("local|anyone|admins").
template <class T>
constexpr OptionField<T> choice(std::string_view key, std::string T::*member,
                                std::string_view choices, std::string_view doc) {
  return {.info = {.key = key, .doc = doc, .choices = choices}, .member = member};
}

// Throws the start-up error for one option: "modules.<module>.<key>: <why>".
[[noreturn]] void option_error(std::string_view module, std::string_view key, std::string_view why);
// Parses `text` (TOML) into `slot` as `info` says; `max` is the upper bound in
// force for an integer. Throws option_error for a bad value.
void read_option(std::string_view module, const OptionInfo& info, const std::string& text,
                 std::int64_t max, OptionSlot slot);
// The value of an integer option (0 for others).
std::int64_t option_int(OptionSlot slot);
// How the reference shows the option, with the value in `slot` as default.
core::ModuleOptionDoc describe_option(const OptionInfo& info, OptionSlot slot);
// Throws "unknown option" for the first key of `raw` not in `keys`.
void check_known_options(std::string_view module, const RawOptions& raw,
                         std::span<const std::string_view> keys);
// For a module that has no options: any key in its table is unknown.
void read_no_options(std::string_view module, const RawOptions& raw);

template <class T>
OptionSlot slot_of(T& values, const OptionMember<T>& member) {
  return std::visit([&](auto m) -> OptionSlot { return &(values.*m); }, member);
}

// The module's options read from `raw`: declared keys not in `raw` keep the
// struct's defaults. Throws option_error for an unknown key or a bad value.
template <class T>
T read_options(std::string_view module, const RawOptions& raw,
               std::span<const OptionField<T>> fields) {
  std::vector<std::string_view> keys;
  for (const auto& f : fields) keys.push_back(f.info.key);
  check_known_options(module, raw, keys);
  T values{};
  // An option bounded by another one is read once the others are.
  for (bool bounded_by_option : {false, true}) {
    for (const auto& f : fields) {
      if (f.info.max_key.empty() == bounded_by_option) continue;
      auto it = raw.find(std::string(f.info.key));
      if (it == raw.end()) continue;
      std::int64_t max = f.info.max;
      if (bounded_by_option) {
        const auto bound = std::find(keys.begin(), keys.end(), f.info.max_key);
        if (bound == keys.end()) throw std::logic_error("no option " + std::string(f.info.max_key));
        max = option_int(slot_of(values, fields[bound - keys.begin()].member));
      }
      read_option(module, f.info, it->second, max, slot_of(values, f.member));
    }
  }
  return values;
}

template <class T, std::size_t N>
T read_options(std::string_view module, const RawOptions& raw, const OptionField<T> (&fields)[N]) {
  return read_options(module, raw, std::span<const OptionField<T>>(fields));
}

// The options as the reference shows them, each with its value read from
// `raw` (an empty table: the defaults). Throws as read_options does.
template <class T>
std::vector<core::ModuleOptionDoc> describe_options(std::string_view module, const RawOptions& raw,
                                                    std::span<const OptionField<T>> fields) {
  T values = read_options(module, raw, fields);
  std::vector<core::ModuleOptionDoc> out;
  for (const auto& f : fields) out.push_back(describe_option(f.info, slot_of(values, f.member)));
  return out;
}

// ModuleInfo::options of a module whose options `Fields` declares (what
// TERN_MODULE's last argument turns into).
template <const auto& Fields>
std::vector<core::ModuleOptionDoc> describe_declared_options(std::string_view module,
                                                             const RawOptions& raw) {
  using T = typename std::remove_cvref_t<decltype(Fields[0])>::Struct;
  return describe_options(module, raw, std::span<const OptionField<T>>(Fields));
}

// A service on a subdomain: `pattern` is the value of option `key`, such as
// "conference.{domain}", and this is the domain it gives for the local
// `domain`, nameprepped. Throws naming the option when that is no domain.
std::string service_domain(std::string_view module, std::string_view key,
                           const std::string& pattern, const std::string& domain);

}  // namespace tern::modules
