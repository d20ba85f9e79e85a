#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "sasl/mechanism.h"

namespace tern::sasl {
namespace {

using Kind = Mechanism::Step::Kind;
using namespace std::string_literals;

// Records what the mechanism asked the account store, and accepts
// user/pencil (and IX/IX, for the SASLprep cases).
struct Verifier {
  std::vector<std::pair<std::string, std::string>> calls;
  std::unique_ptr<Mechanism> mechanism() {
    return make_mechanism("PLAIN", Context{}, [this](const std::string& u, const std::string& p) {
      calls.emplace_back(u, p);
      return (u == "user" && p == "pencil") || (u == "IX" && p == "IX");
    });
  }
};

void expect_failure(const Mechanism::Step& step, Failure f) {
  EXPECT_EQ(step.kind, Kind::kFailure);
  EXPECT_EQ(std::string(failure_name(step.failure)), failure_name(f));
}

TEST(PlainTest, GoodCredentialsSucceed) {
  Verifier v;
  auto m = v.mechanism();
  auto step = m->step("\0user\0pencil"s);
  EXPECT_EQ(step.kind, Kind::kSuccess);
  EXPECT_EQ(step.data, "");
  EXPECT_EQ(m->username(), "user");
  EXPECT_EQ(m->authzid(), "");
  EXPECT_EQ(v.calls, (std::vector<std::pair<std::string, std::string>>{{"user", "pencil"}}));
}

TEST(PlainTest, AuthzidIsReported) {
  Verifier v;
  auto m = v.mechanism();
  EXPECT_EQ(m->step("admin@example.net\0user\0pencil"s).kind, Kind::kSuccess);
  EXPECT_EQ(m->authzid(), "admin@example.net");
  EXPECT_EQ(m->username(), "user");
}

TEST(PlainTest, WrongPasswordIsNotAuthorized) {
  Verifier v;
  auto m = v.mechanism();
  expect_failure(m->step("\0user\0pencils"s), Failure::kNotAuthorized);
  EXPECT_EQ(m->username(), "");
}

TEST(PlainTest, MalformedMessages) {
  for (const std::string& bad : std::vector<std::string>{
           "userpencil"s,           // no NUL
           "\0userpencil"s,         // one NUL
           "\0user\0pencil\0"s,     // three NULs
           "a\0user\0pen\0cil"s,    //
           "\0\0pencil"s,           // empty authcid
           "\0user\0"s,             // empty password
           "\0\0"s,                 //
           "\0user\xFF\0pencil"s,   // not UTF-8
           "\0user\0pen\xC0\xAF"s,  // overlong UTF-8
           "a\xFF\0user\0pencil"s,  // authzid not UTF-8
       }) {
    Verifier v;
    expect_failure(v.mechanism()->step(bad), Failure::kMalformedRequest);
    EXPECT_TRUE(v.calls.empty());
  }
}

TEST(PlainTest, BothIdentityAndPasswordAreSaslprepped) {
  Verifier v;
  auto m = v.mechanism();
  // "I<SOFT HYPHEN>X" and U+2168 both prepare to "IX".
  EXPECT_EQ(m->step("\0I\xC2\xADX\0\xE2\x85\xA8"s).kind, Kind::kSuccess);
  EXPECT_EQ(m->username(), "IX");
  EXPECT_EQ(v.calls, (std::vector<std::pair<std::string, std::string>>{{"IX", "IX"}}));
}

TEST(PlainTest, IdentityThatFailsSaslprepIsNotAuthorized) {
  Verifier v;
  expect_failure(v.mechanism()->step("\0user\x07\0pencil"s), Failure::kNotAuthorized);
  expect_failure(v.mechanism()->step("\0\xC2\xAD\0pencil"s), Failure::kNotAuthorized);
  EXPECT_TRUE(v.calls.empty());
}

TEST(PlainTest, PasswordThatFailsSaslprepIsPassedAsSent) {
  // derive_credentials() stores such a password as its raw bytes, so the
  // check must see the same bytes.
  Verifier v;
  expect_failure(v.mechanism()->step("\0user\0pen\x07"s), Failure::kNotAuthorized);
  EXPECT_EQ(v.calls, (std::vector<std::pair<std::string, std::string>>{{"user", "pen\x07"}}));
}

TEST(PlainTest, EmptyInitialResponseGetsAnEmptyChallenge) {
  Verifier v;
  auto m = v.mechanism();
  auto first = m->step("");
  EXPECT_EQ(first.kind, Kind::kChallenge);
  EXPECT_EQ(first.data, "");
  EXPECT_EQ(m->step("\0user\0pencil"s).kind, Kind::kSuccess);
  EXPECT_EQ(m->username(), "user");
}

TEST(PlainTest, EmptyResponseToTheEmptyChallengeIsMalformed) {
  Verifier v;
  auto m = v.mechanism();
  EXPECT_EQ(m->step("").kind, Kind::kChallenge);
  expect_failure(m->step(""), Failure::kMalformedRequest);
}

TEST(PlainTest, AnyStepAfterTheEndIsMalformed) {
  Verifier v;
  auto m = v.mechanism();
  EXPECT_EQ(m->step("\0user\0pencil"s).kind, Kind::kSuccess);
  expect_failure(m->step("\0user\0pencil"s), Failure::kMalformedRequest);
  auto m2 = v.mechanism();
  expect_failure(m2->step("\0user\0wrong"s), Failure::kNotAuthorized);
  expect_failure(m2->step("\0user\0pencil"s), Failure::kMalformedRequest);
  EXPECT_EQ(m2->username(), "");
}

TEST(PlainTest, NoVerifierIsATemporaryFailure) {
  auto m = make_mechanism("PLAIN", Context{});
  ASSERT_NE(m, nullptr);
  expect_failure(m->step("\0user\0pencil"s), Failure::kTemporaryAuthFailure);
}

}  // namespace
}  // namespace tern::sasl
