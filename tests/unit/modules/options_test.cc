#include "modules/options.h"

#include <gtest/gtest.h>

namespace tern::modules {
namespace {

TEST(ModuleOptions, ServiceDomainFromThePattern) {
  std::map<std::string, std::string> none;
  ModuleOptions defaults("muc", none);
  EXPECT_EQ(defaults.get_service_domain("domain", "conference.{domain}", "example.org"),
            "conference.example.org");

  std::map<std::string, std::string> raw{{"domain", "\"Chat.{domain}\""}};
  ModuleOptions set("muc", raw);
  EXPECT_EQ(set.get_service_domain("domain", "conference.{domain}", "example.org"),
            "chat.example.org");  // nameprepped

  std::map<std::string, std::string> bad{{"domain", "\"a b.{domain}\""}};
  ModuleOptions broken("muc", bad);
  try {
    broken.get_service_domain("domain", "conference.{domain}", "example.org");
    FAIL() << "an invalid domain was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), "modules.muc.domain: \"a b.{domain}\" gives an invalid domain");
  }
}

}  // namespace
}  // namespace tern::modules
