// XEP-0092: the version answer.
#include "modules/version/version.h"

#include <gtest/gtest.h>

#include "xml/serializer.h"

namespace tern::modules {
namespace {

TEST(VersionResult, NameVersionOs) {
  EXPECT_EQ(xml::to_string(version::version_result("Tern", "0.1.0", "Linux"), ""),
            "<query xmlns='jabber:iq:version'><name>Tern</name><version>0.1.0</version>"
            "<os>Linux</os></query>");
}

TEST(VersionResult, NoOsElementWhenHidden) {
  EXPECT_EQ(xml::to_string(version::version_result("Tern", "0.1.0", ""), ""),
            "<query xmlns='jabber:iq:version'><name>Tern</name><version>0.1.0</version></query>");
}

TEST(VersionResult, OsNameIsKnownHere) { EXPECT_EQ(version::os_name(), "Linux"); }

}  // namespace
}  // namespace tern::modules
