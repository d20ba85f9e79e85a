#include "modules/turn/turn.h"

#include <gtest/gtest.h>

namespace tern::modules::turn {
namespace {

using std::chrono::seconds;
using std::chrono::system_clock;

TEST(TurnCredentials, RestApiScheme) {
  // Computed independently: base64(HMAC-SHA1("north", "1433895918:alice@example.org")).
  auto c = make_credentials("north", "alice@example.org", system_clock::time_point(seconds(1433895918)));
  EXPECT_EQ(c.username, "1433895918:alice@example.org");
  EXPECT_EQ(c.password, "0V+GRwmFy1cq6FiXY57PA5uaPO0=");
  EXPECT_EQ(c.expires, system_clock::time_point(seconds(1433895918)));
}

TEST(TurnCredentials, ExpiryIsWholeSeconds) {
  auto c = make_credentials("s", "a@b", system_clock::time_point(seconds(10)) + std::chrono::milliseconds(900));
  EXPECT_EQ(c.username, "10:a@b");
  EXPECT_EQ(c.expires, system_clock::time_point(seconds(10)));
}

TEST(TurnServices, WhatIsOffered) {
  TurnConfig config;
  EXPECT_TRUE(services_of(config).empty());
  config.host = "turn.example.org";
  auto stun_only = services_of(config);
  ASSERT_EQ(stun_only.size(), 1u);
  EXPECT_EQ(stun_only[0].type, "stun");
  EXPECT_FALSE(stun_only[0].restricted);
  config.secret = "x";
  config.tls_port = 0;
  config.stun = false;
  auto turn = services_of(config);
  ASSERT_EQ(turn.size(), 2u);
  EXPECT_EQ(turn[0].transport, "udp");
  EXPECT_EQ(turn[1].transport, "tcp");
  EXPECT_TRUE(turn[0].restricted && turn[1].restricted);
}

}  // namespace
}  // namespace tern::modules::turn
