#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <utility>

#include "sasl/mechanism.h"

namespace tern::sasl {
namespace {

TEST(MechanismTest, KnownNamesMakeMechanisms) {
  for (const char* name :
       {"SCRAM-SHA-1", "SCRAM-SHA-1-PLUS", "SCRAM-SHA-256", "SCRAM-SHA-256-PLUS", "PLAIN"}) {
    EXPECT_NE(make_mechanism(name, Context{}), nullptr) << name;
  }
}

TEST(MechanismTest, UnknownNamesMakeNothing) {
  for (const char* name : {"", "scram-sha-1", "SCRAM-SHA-512", "SCRAM-SHA-256-PLUS ", "DIGEST-MD5",
                           "ANONYMOUS", "plain", "SCRAM-SHA-1-plus"}) {
    EXPECT_EQ(make_mechanism(name, Context{}), nullptr) << '"' << name << '"';
  }
}

TEST(MechanismTest, HashFollowsTheName) {
  // Seen through the hash each mechanism asks the account store for.
  for (auto [name, expected] :
       {std::pair{"SCRAM-SHA-1", Hash::kSha1}, std::pair{"SCRAM-SHA-256", Hash::kSha256},
        std::pair{"SCRAM-SHA-1-PLUS", Hash::kSha1},
        std::pair{"SCRAM-SHA-256-PLUS", Hash::kSha256}}) {
    std::optional<Hash> asked;
    Context ctx;
    ctx.lookup_scram = [&asked](const std::string&, Hash h) -> std::optional<ScramCredentials> {
      asked = h;
      return std::nullopt;
    };
    ctx.channel_binding = [](std::string_view) -> std::optional<std::string> { return "cb"; };
    auto m = make_mechanism(name, ctx);
    const bool plus = std::string(name).ends_with("-PLUS");
    m->step(plus ? "p=tls-exporter,,n=u,r=n" : "n,,n=u,r=n");
    EXPECT_EQ(asked, expected) << name;
  }
}

TEST(MechanismTest, FailureNamesAreTheRfc6120Conditions) {
  EXPECT_STREQ(failure_name(Failure::kAborted), "aborted");
  EXPECT_STREQ(failure_name(Failure::kAccountDisabled), "account-disabled");
  EXPECT_STREQ(failure_name(Failure::kCredentialsExpired), "credentials-expired");
  EXPECT_STREQ(failure_name(Failure::kEncryptionRequired), "encryption-required");
  EXPECT_STREQ(failure_name(Failure::kIncorrectEncoding), "incorrect-encoding");
  EXPECT_STREQ(failure_name(Failure::kInvalidAuthzid), "invalid-authzid");
  EXPECT_STREQ(failure_name(Failure::kInvalidMechanism), "invalid-mechanism");
  EXPECT_STREQ(failure_name(Failure::kMalformedRequest), "malformed-request");
  EXPECT_STREQ(failure_name(Failure::kMechanismTooWeak), "mechanism-too-weak");
  EXPECT_STREQ(failure_name(Failure::kNotAuthorized), "not-authorized");
  EXPECT_STREQ(failure_name(Failure::kTemporaryAuthFailure), "temporary-auth-failure");
}

}  // namespace
}  // namespace tern::sasl
