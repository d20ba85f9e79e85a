#include "stream/fast_tokens.h"

#include <gtest/gtest.h>

namespace tern::stream {
namespace {

constexpr std::int64_t kDay = 86400;
const std::string kSecret = "server-secret";
const std::string kKey = "fast:0123";

FastSuccess success_at(std::int64_t now, std::string used = {}, std::string requested = {}) {
  FastSuccess s;
  s.used_token = std::move(used);
  s.requested = std::move(requested);
  s.credentials_tag = "creds";
  s.now = now;
  s.lifetime = 14 * kDay;
  return s;
}

TEST(FastTokens, StoredMaskedAndReadBack) {
  FastTokenSet set{"HT-SHA-256-NONE", "creds", {{"tok-one", 100}, {"tok-two", 200}}};
  auto doc = encode_fast_tokens(set, kSecret, kKey);
  EXPECT_EQ(doc.find("tok-one"), std::string::npos) << doc;
  auto back = decode_fast_tokens(doc, kSecret, kKey);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->mechanism, "HT-SHA-256-NONE");
  ASSERT_EQ(back->tokens.size(), 2u);
  EXPECT_EQ(back->tokens[0].token, "tok-one");
  EXPECT_EQ(back->tokens[1].expiry, 200);
  // Another server secret recovers nothing usable.
  auto other = decode_fast_tokens(doc, "other", kKey);
  ASSERT_TRUE(other);
  EXPECT_NE(other->tokens[0].token, "tok-one");
  EXPECT_FALSE(decode_fast_tokens("<x/>", kSecret, kKey));
}

TEST(FastTokens, DocumentKeyHidesTheUserAgentId) {
  auto key = fast_document_key(kSecret, "d4565fa7-4d72-4749-b3d3-740edbf87770");
  EXPECT_EQ(key.rfind("fast:", 0), 0u);
  EXPECT_EQ(key.find("d4565fa7"), std::string::npos);
  EXPECT_EQ(key, fast_document_key(kSecret, "d4565fa7-4d72-4749-b3d3-740edbf87770"));
  EXPECT_NE(key, fast_document_key(kSecret, "another"));
}

TEST(FastTokens, UsableOnlyForItsMechanismCredentialsAndLifetime) {
  FastTokenSet set{"HT-SHA-256-NONE", "creds", {{"a", 100}, {"b", 200}}};
  EXPECT_EQ(usable_fast_tokens(set, "HT-SHA-256-NONE", "creds", 150), std::vector<std::string>{"b"});
  EXPECT_TRUE(usable_fast_tokens(set, "HT-SHA-256-EXPR", "creds", 50).empty());
  // A password change changes the credentials tag.
  EXPECT_TRUE(usable_fast_tokens(set, "HT-SHA-256-NONE", "new-password", 50).empty());
}

TEST(FastTokens, PasswordLoginWithRequestIssuesOneToken) {
  auto r = rotate_fast_tokens(std::nullopt, success_at(1000, {}, "HT-SHA-256-NONE"), "new");
  ASSERT_TRUE(r.issued);
  EXPECT_EQ(r.issued->token, "new");
  EXPECT_EQ(r.issued->expiry, 1000 + 14 * kDay);
  EXPECT_EQ(r.set.mechanism, "HT-SHA-256-NONE");
  EXPECT_EQ(r.set.credentials_tag, "creds");
  ASSERT_EQ(r.set.tokens.size(), 1u);
}

TEST(FastTokens, UsingAFreshTokenChangesNothing) {
  FastTokenSet set{"HT-SHA-256-NONE", "creds", {{"cur", 1000 + 14 * kDay}}};
  auto r = rotate_fast_tokens(set, success_at(1000 + kDay, "cur"), "new");
  EXPECT_FALSE(r.issued);
  ASSERT_EQ(r.set.tokens.size(), 1u);
}

TEST(FastTokens, OldTokenRotatesAndStaysUntilTheNewOneIsUsed) {
  const std::int64_t issued_at = 1000, expiry = issued_at + 14 * kDay;
  FastTokenSet set{"HT-SHA-256-NONE", "creds", {{"cur", expiry}}};
  auto r = rotate_fast_tokens(set, success_at(issued_at + 8 * kDay, "cur"), "next");
  ASSERT_TRUE(r.issued);  // past half its life: server-initiated rotation
  ASSERT_EQ(r.set.tokens.size(), 2u);
  EXPECT_EQ(r.set.tokens[0].token, "cur");  // kept: the client may never have got "next"
  // The client did not get "next" and uses "cur" again: a newer token, the
  // unused "next" goes.
  auto again = rotate_fast_tokens(r.set, success_at(issued_at + 9 * kDay, "cur"), "next2");
  ASSERT_TRUE(again.issued);
  ASSERT_EQ(again.set.tokens.size(), 2u);
  EXPECT_EQ(again.set.tokens[1].token, "next2");
  // Using the new one drops the older.
  auto used = rotate_fast_tokens(again.set, success_at(issued_at + 9 * kDay + 10, "next2"), "x");
  EXPECT_FALSE(used.issued);
  ASSERT_EQ(used.set.tokens.size(), 1u);
  EXPECT_EQ(used.set.tokens[0].token, "next2");
}

TEST(FastTokens, InvalidateRemovesTheTokenAndIssuesNoneUnlessAsked) {
  FastTokenSet set{"HT-SHA-256-NONE", "creds", {{"cur", 1000 + kDay}}};
  auto s = success_at(1000 + kDay - 10, "cur");  // due for rotation, yet invalidated
  s.invalidate = true;
  auto r = rotate_fast_tokens(set, s, "new");
  EXPECT_FALSE(r.issued);
  EXPECT_TRUE(r.set.tokens.empty());
  s.requested = "HT-SHA-256-NONE";
  auto asked = rotate_fast_tokens(set, s, "new");
  ASSERT_TRUE(asked.issued);
  ASSERT_EQ(asked.set.tokens.size(), 1u);
  EXPECT_EQ(asked.set.tokens[0].token, "new");
}

TEST(FastTokens, ExpiredTokensAreDropped) {
  FastTokenSet set{"HT-SHA-256-NONE", "creds", {{"old", 10}}};
  auto r = rotate_fast_tokens(set, success_at(20), "new");
  EXPECT_TRUE(r.set.tokens.empty());
  EXPECT_FALSE(r.issued);
}

}  // namespace
}  // namespace tern::stream
