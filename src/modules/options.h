// Reading a module's own [modules.<name>] table. Values arrive as TOML
// text; a bad value or an unknown key stops the server at start with a
// message naming the option (a module lists the keys it knows).
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace tern::modules {

class ModuleOptions {
 public:
  ModuleOptions(std::string module, const std::map<std::string, std::string>& raw)
      : module_(std::move(module)), raw_(raw) {}

  // Throws std::runtime_error for a key not in `known`.
  void check_known(const std::vector<std::string>& known) const;
  bool get_bool(const std::string& key, bool fallback) const;
  std::int64_t get_int(const std::string& key, std::int64_t fallback, std::int64_t min,
                       std::int64_t max) const;
  std::string get_string(const std::string& key, const std::string& fallback) const;
  // A service on a subdomain: option `key` is a pattern such as
  // "conference.{domain}", and this is the domain it gives for the local
  // `domain`, nameprepped. Throws naming the option when that is no domain.
  std::string get_service_domain(const std::string& key, const std::string& fallback,
                                 const std::string& domain) const;

 private:
  [[noreturn]] void bad(const std::string& key, const std::string& why) const;
  std::string module_;
  const std::map<std::string, std::string>& raw_;
};

}  // namespace tern::modules
