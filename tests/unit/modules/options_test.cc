#include "modules/options.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "modules/module.h"

namespace tern::modules {
namespace {

struct SampleOptions {
  bool flag = true;
  std::string name = "tern";
  std::string mode = "fast";
  int small = 5;
  std::int64_t big = 1'000'000;
  std::size_t count = 10;
  std::chrono::seconds wait{30};
  int up_to_small = 2;
  bool operator==(const SampleOptions&) const = default;
};
constexpr OptionField<SampleOptions> kSampleOptions[] = {
    option("flag", &SampleOptions::flag, "A flag"),
    option("name", &SampleOptions::name, "A name"),
    choice("mode", &SampleOptions::mode, "fast|slow|off", "A mode"),
    option("small", &SampleOptions::small, 0, 10, "A small number"),
    option("big", &SampleOptions::big, -5, 1ll << 40, "A big number"),
    option("count", &SampleOptions::count, 1, 100, "A count"),
    option("wait", &SampleOptions::wait, 1, 3600, "Seconds to wait"),
    option("up_to_small", &SampleOptions::up_to_small, 1, "small", "At most small"),
};

SampleOptions read(const RawOptions& raw) { return read_options("sample", raw, kSampleOptions); }

// The start-up error reading `raw` gives, or "" when it reads.
std::string error_of(const RawOptions& raw) {
  try {
    read(raw);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

TEST(ReadOptions, AnEmptyTableGivesTheStructDefaults) { EXPECT_EQ(read({}), SampleOptions{}); }

TEST(ReadOptions, ReadsEveryKind) {
  SampleOptions o = read({{"flag", "false"},
                          {"name", "\"x \\\"y\\\" \\\\ z\""},
                          {"mode", "'slow'"},
                          {"small", "10"},
                          {"big", "-5"},
                          {"count", "100"},
                          {"wait", "60"},
                          {"up_to_small", "10"}});
  EXPECT_FALSE(o.flag);
  EXPECT_EQ(o.name, "x \"y\" \\ z");  // as core::toml_quote hands it on
  EXPECT_EQ(o.mode, "slow");
  EXPECT_EQ(o.small, 10);
  EXPECT_EQ(o.big, -5);
  EXPECT_EQ(o.count, 100u);
  EXPECT_EQ(o.wait, std::chrono::seconds(60));
  EXPECT_EQ(o.up_to_small, 10);
  EXPECT_EQ(read({{"name", "\"a\\u0001b\\nc\\td\""}}).name, std::string("a\x01") + "b\nc\td");
  const std::string odd = "q\"b\\s\x01\x7f\n\té";
  EXPECT_EQ(read({{"name", core::toml_quote(odd)}}).name, odd);
  // Keys left out keep their defaults.
  EXPECT_EQ(read({{"small", "7"}}).name, "tern");
}

TEST(ReadOptions, UnknownKey) {
  EXPECT_EQ(error_of({{"flags", "true"}}), "modules.sample.flags: unknown option");
  // A sub-table arrives as dotted keys, none of which is declared.
  EXPECT_EQ(error_of({{"flag.x", "true"}}), "modules.sample.flag.x: unknown option");
}

TEST(ReadOptions, BadValues) {
  EXPECT_EQ(error_of({{"flag", "1"}}), "modules.sample.flag: expected true or false");
  EXPECT_EQ(error_of({{"flag", "\"true\""}}), "modules.sample.flag: expected true or false");
  EXPECT_EQ(error_of({{"name", "42"}}), "modules.sample.name: expected a string");
  EXPECT_EQ(error_of({{"name", "\"a"}}), "modules.sample.name: expected a string");
  EXPECT_EQ(error_of({{"name", "\"a\\q\""}}), "modules.sample.name: expected a string");
  EXPECT_EQ(error_of({{"name", "\"a\\u00\""}}), "modules.sample.name: expected a string");
  EXPECT_EQ(error_of({{"small", "\"5\""}}), "modules.sample.small: expected an integer");
  EXPECT_EQ(error_of({{"small", "2.5"}}), "modules.sample.small: expected an integer");
  EXPECT_EQ(error_of({{"small", "true"}}), "modules.sample.small: expected an integer");
  EXPECT_EQ(error_of({{"big", "99999999999999999999"}}), "modules.sample.big: expected an integer");
  EXPECT_EQ(error_of({{"mode", "\"quick\""}}),
            "modules.sample.mode: must be \"fast\", \"slow\" or \"off\"");
}

TEST(ReadOptions, Bounds) {
  EXPECT_EQ(error_of({{"small", "11"}}), "modules.sample.small: must be between 0 and 10");
  EXPECT_EQ(error_of({{"small", "-1"}}), "modules.sample.small: must be between 0 and 10");
  EXPECT_EQ(error_of({{"count", "0"}}), "modules.sample.count: must be between 1 and 100");
  EXPECT_EQ(error_of({{"count", "-1"}}), "modules.sample.count: must be between 1 and 100");
  EXPECT_EQ(error_of({{"wait", "3601"}}), "modules.sample.wait: must be between 1 and 3600");
  EXPECT_EQ(error_of({{"big", "1099511627777"}}),
            "modules.sample.big: must be between -5 and 1099511627776");
  EXPECT_EQ(error_of({{"small", "0"}, {"big", "1099511627776"}, {"count", "1"}}), "");
}

TEST(ReadOptions, BoundByAnotherOption) {
  // The bound is the other option's value, as set or by default (5).
  EXPECT_EQ(error_of({{"up_to_small", "6"}}),
            "modules.sample.up_to_small: must be between 1 and 5");
  EXPECT_EQ(error_of({{"up_to_small", "3"}, {"small", "2"}}),
            "modules.sample.up_to_small: must be between 1 and 2");
  EXPECT_EQ(error_of({{"up_to_small", "0"}}),
            "modules.sample.up_to_small: must be between 1 and 5");
  EXPECT_EQ(read({{"up_to_small", "8"}, {"small", "9"}}).up_to_small, 8);
  // Only a value that is set is checked: the default is the module's business.
  EXPECT_EQ(read({{"small", "1"}}).up_to_small, 2);
}

TEST(ReadOptions, NoOptions) {
  EXPECT_NO_THROW(read_no_options("time", {}));
  try {
    read_no_options("time", {{"zone", "\"UTC\""}});
    FAIL() << "a key was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), "modules.time.zone: unknown option");
  }
}

TEST(ReadOptions, DescribesTypesAndDefaults) {
  auto docs =
      describe_options("sample", {}, std::span<const OptionField<SampleOptions>>(kSampleOptions));
  ASSERT_EQ(docs.size(), std::size(kSampleOptions));
  auto row = [&](std::size_t i) {
    return docs[i].key + " | " + docs[i].type + " | " + docs[i].default_toml;
  };
  EXPECT_EQ(row(0), "flag | boolean | true");
  EXPECT_EQ(row(1), "name | string | \"tern\"");
  EXPECT_EQ(row(2), "mode | string | \"fast\"");
  EXPECT_EQ(row(3), "small | integer (0..10) | 5");
  EXPECT_EQ(row(4), "big | integer (-5..1099511627776) | 1000000");
  EXPECT_EQ(row(5), "count | integer (1..100) | 10");
  EXPECT_EQ(row(6), "wait | integer (1..3600) | 30");
  EXPECT_EQ(row(7), "up_to_small | integer (1..small) | 2");
  EXPECT_EQ(docs[0].doc, "A flag");
  // With a table: the values read.
  auto set = describe_options("sample", {{"small", "9"}},
                              std::span<const OptionField<SampleOptions>>(kSampleOptions));
  EXPECT_EQ(set[3].default_toml, "9");
}

TEST(ServiceDomain, FromThePattern) {
  EXPECT_EQ(service_domain("muc", "domain", "conference.{domain}", "example.org"),
            "conference.example.org");
  EXPECT_EQ(service_domain("muc", "domain", "Chat.{domain}", "example.org"),
            "chat.example.org");  // nameprepped
  try {
    service_domain("muc", "domain", "a b.{domain}", "example.org");
    FAIL() << "an invalid domain was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()),
              "modules.muc.domain: \"a b.{domain}\" gives an invalid domain");
  }
}

// The docs and the code agree: every built-in module's documented defaults,
// written into its table, read back as the defaults its struct states (a
// default out of its own bounds, or one that does not survive TOML, fails
// here). The docs come from the same declaration as the struct, so this is
// what is left to check.
TEST(BuiltinModuleOptions, DocumentedDefaultsReadBackAsTheDefaults) {
  int documented = 0;
  for (const ModuleInfo& info : builtin_modules()) {
    if (info.options == nullptr) continue;
    const auto defaults = info.options(info.name, {});
    RawOptions written;
    for (const auto& opt : defaults) written[opt.key] = opt.default_toml;
    std::vector<core::ModuleOptionDoc> read_back;
    try {
      read_back = info.options(info.name, written);
    } catch (const std::exception& e) {
      ADD_FAILURE() << info.name << ": " << e.what();
      continue;
    }
    ASSERT_EQ(read_back.size(), defaults.size()) << info.name;
    for (std::size_t i = 0; i < defaults.size(); ++i) {
      EXPECT_EQ(read_back[i].default_toml, defaults[i].default_toml)
          << info.name << "." << defaults[i].key;
      EXPECT_FALSE(defaults[i].doc.empty()) << info.name << "." << defaults[i].key;
      EXPECT_NE(defaults[i].doc.back(), '.') << info.name << "." << defaults[i].key;
      ++documented;
    }
    // Each key once.
    std::vector<std::string> keys;
    for (const auto& opt : defaults) keys.push_back(opt.key);
    std::sort(keys.begin(), keys.end());
    EXPECT_EQ(std::adjacent_find(keys.begin(), keys.end()), keys.end()) << info.name;
  }
  EXPECT_GT(documented, 40);
}

// Every built-in module refuses a key it does not know at start, through
// its declaration or read_no_options.
TEST(BuiltinModuleOptions, DescribedModulesRefuseUnknownKeys) {
  for (const ModuleInfo& info : builtin_modules()) {
    if (info.options == nullptr) continue;
    EXPECT_THROW(info.options(info.name, {{"no_such_option", "1"}}), std::runtime_error)
        << info.name;
  }
}

TEST(BuiltinModuleOptions, OptionDocsAreByModuleName) {
  auto docs = builtin_option_docs();
  ASSERT_FALSE(docs.empty());
  EXPECT_TRUE(std::is_sorted(docs.begin(), docs.end(),
                             [](const auto& a, const auto& b) { return a.module < b.module; }));
  for (const auto& m : docs) EXPECT_FALSE(m.options.empty()) << m.module;
}

}  // namespace
}  // namespace tern::modules
