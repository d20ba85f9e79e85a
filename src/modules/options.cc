#include "modules/options.h"

#include <algorithm>

#include "xmpp/jid.h"

namespace tern::modules {

void ModuleOptions::bad(const std::string& key, const std::string& why) const {
  throw std::runtime_error("modules." + module_ + "." + key + ": " + why);
}

void ModuleOptions::check_known(const std::vector<std::string>& known) const {
  for (const auto& [key, _] : raw_)
    if (std::find(known.begin(), known.end(), key) == known.end()) bad(key, "unknown option");
}

bool ModuleOptions::get_bool(const std::string& key, bool fallback) const {
  auto it = raw_.find(key);
  if (it == raw_.end()) return fallback;
  if (it->second == "true") return true;
  if (it->second == "false") return false;
  bad(key, "expected true or false");
}

std::int64_t ModuleOptions::get_int(const std::string& key, std::int64_t fallback,
                                    std::int64_t min, std::int64_t max) const {
  auto it = raw_.find(key);
  if (it == raw_.end()) return fallback;
  std::int64_t v = 0;
  try {
    std::size_t used = 0;
    v = std::stoll(it->second, &used);
    if (used != it->second.size()) bad(key, "expected an integer");
  } catch (const std::logic_error&) {
    bad(key, "expected an integer");
  }
  if (v < min || v > max)
    bad(key, "must be between " + std::to_string(min) + " and " + std::to_string(max));
  return v;
}

std::string ModuleOptions::get_string(const std::string& key, const std::string& fallback) const {
  auto it = raw_.find(key);
  if (it == raw_.end()) return fallback;
  const auto& t = it->second;
  if (t.size() < 2 || (t.front() != '"' && t.front() != '\'') || t.back() != t.front())
    bad(key, "expected a string");
  return t.substr(1, t.size() - 2);  // simple strings; escapes are not expected here
}

std::string ModuleOptions::get_service_domain(const std::string& key, const std::string& fallback,
                                              const std::string& domain) const {
  std::string pattern = get_string(key, fallback);
  const std::string placeholder = "{domain}";
  std::string out = pattern;
  for (auto at = out.find(placeholder); at != std::string::npos; at = out.find(placeholder))
    out.replace(at, placeholder.size(), domain);
  auto name = xmpp::nameprep(out);
  if (!name) bad(key, "\"" + pattern + "\" gives an invalid domain");
  return *name;
}

}  // namespace tern::modules
