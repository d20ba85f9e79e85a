#include <gtest/gtest.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <string>
#include <vector>

#include "sasl/mechanism.h"

namespace tern::sasl {
namespace {

using Kind = Mechanism::Step::Kind;
using namespace std::string_literals;

// HMAC-SHA-256 written against OpenSSL directly, not the code under test.
std::string hmac256(const std::string& key, const std::string& data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<const char*>(out), len);
}

Context with_tokens(std::vector<std::string> tokens, std::string cb = {}) {
  Context c;
  c.fast_tokens = [tokens](const std::string& user) {
    return user == "juliet" ? tokens : std::vector<std::string>{};
  };
  c.channel_binding = [cb](std::string_view type) -> std::optional<std::string> {
    if (type == "tls-exporter" && !cb.empty()) return cb;
    return std::nullopt;
  };
  return c;
}

TEST(Ht, NoneSucceedsWithTheTokenAndProvesTheServerKnowsIt) {
  auto m = make_mechanism("HT-SHA-256-NONE", with_tokens({"old", "tok"}));
  ASSERT_TRUE(m);
  auto step = m->step("juliet\0"s + hmac256("tok", "Initiator"));
  ASSERT_EQ(step.kind, Kind::kSuccess);
  EXPECT_EQ(step.data, hmac256("tok", "Responder"));
  EXPECT_EQ(m->username(), "juliet");
  EXPECT_EQ(m->used_token(), "tok");
}

TEST(Ht, WrongTokenOrUserFails) {
  auto m = make_mechanism("HT-SHA-256-NONE", with_tokens({"tok"}));
  auto step = m->step("juliet\0"s + hmac256("nope", "Initiator"));
  EXPECT_EQ(step.kind, Kind::kFailure);
  EXPECT_EQ(step.failure, Failure::kNotAuthorized);
  auto other = make_mechanism("HT-SHA-256-NONE", with_tokens({"tok"}));
  EXPECT_EQ(other->step("romeo\0"s + hmac256("tok", "Initiator")).kind, Kind::kFailure);
}

TEST(Ht, ResponderHashIsNotAcceptedAsInitiator) {
  auto m = make_mechanism("HT-SHA-256-NONE", with_tokens({"tok"}));
  EXPECT_EQ(m->step("juliet\0"s + hmac256("tok", "Responder")).kind, Kind::kFailure);
}

TEST(Ht, ExporterBindsTheChannel) {
  auto m = make_mechanism("HT-SHA-256-EXPR", with_tokens({"tok"}, "CBDATA"));
  auto step = m->step("juliet\0"s + hmac256("tok", "InitiatorCBDATA"));
  ASSERT_EQ(step.kind, Kind::kSuccess);
  EXPECT_EQ(step.data, hmac256("tok", "ResponderCBDATA"));
  // The same proof without the binding does not pass.
  auto unbound = make_mechanism("HT-SHA-256-EXPR", with_tokens({"tok"}, "CBDATA"));
  EXPECT_EQ(unbound->step("juliet\0"s + hmac256("tok", "Initiator")).kind, Kind::kFailure);
  // No binding on this channel: no success whatever the proof.
  auto none = make_mechanism("HT-SHA-256-EXPR", with_tokens({"tok"}));
  EXPECT_EQ(none->step("juliet\0"s + hmac256("tok", "Initiator")).kind, Kind::kFailure);
}

TEST(Ht, MalformedMessages) {
  for (auto bad : {""s, "juliet"s, "\0abc"s, "juliet\0short"s}) {
    auto m = make_mechanism("HT-SHA-256-NONE", with_tokens({"tok"}));
    auto step = m->step(bad);
    EXPECT_EQ(step.kind, Kind::kFailure);
    EXPECT_EQ(step.failure, Failure::kMalformedRequest);
  }
  auto m = make_mechanism("HT-SHA-256-NONE", with_tokens({"tok"}));
  m->step("juliet\0"s + hmac256("tok", "Initiator"));
  EXPECT_EQ(m->step("again").kind, Kind::kFailure);  // one message only
}

}  // namespace
}  // namespace tern::sasl
