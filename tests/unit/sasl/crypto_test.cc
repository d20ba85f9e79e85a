#include <gtest/gtest.h>

#include <string>

#include "sasl/internal.h"
#include "sasl/mechanism.h"

namespace tern::sasl {
namespace {

std::string hex(std::string_view raw) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xf]);
  }
  return out;
}

TEST(Base64Test, EncodesRfc4648Vectors) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foob"), "Zm9vYg==");
  EXPECT_EQ(base64_encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode(std::string("\xfb\xff\x00", 3)), "+/8A");
}

TEST(Base64Test, DecodesRfc4648Vectors) {
  EXPECT_EQ(base64_decode(""), std::string());
  EXPECT_EQ(base64_decode("Zg=="), "f");
  EXPECT_EQ(base64_decode("Zm8="), "fo");
  EXPECT_EQ(base64_decode("Zm9v"), "foo");
  EXPECT_EQ(base64_decode("Zm9vYg=="), "foob");
  EXPECT_EQ(base64_decode("Zm9vYmE="), "fooba");
  EXPECT_EQ(base64_decode("Zm9vYmFy"), "foobar");
  EXPECT_EQ(base64_decode("+/8A"), std::string("\xfb\xff\x00", 3));
  EXPECT_EQ(base64_decode("AAAA"), std::string(3, '\0'));
}

TEST(Base64Test, RoundTripsEveryByteAndLength) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (std::size_t len = 0; len <= all.size(); ++len) {
    const std::string raw = all.substr(all.size() - len);
    const std::string text = base64_encode(raw);
    EXPECT_EQ(text.size(), 4 * ((len + 2) / 3));
    EXPECT_EQ(base64_decode(text), raw) << "length " << len;
  }
}

TEST(Base64Test, RejectsMalformedAndNonCanonicalInput) {
  for (const char* bad : {
           "Z",         // not a multiple of four
           "Zg=",       // padding cut short
           "Zg",        // padding missing
           "Zh==",      // bits dropped by the padding are not zero
           "Zm9=",      // same, one '='
           "Z===",      // three '='
           "====",      // only padding
           "=Zm9",      // padding first
           "Zg==Zg==",  // padding in the middle
           "Zm=v",      // '=' inside a group
           " Zm9v",     // whitespace, which EVP_DecodeBlock would skip
           "Zm9v ",     //
           "Zm9v\n",    //
           "Zm9-",      // base64url alphabet
           "Zm9_",      //
           "Zm9\x80",   // non-ASCII
       }) {
    EXPECT_EQ(base64_decode(bad), std::nullopt) << '"' << bad << '"';
  }
  EXPECT_EQ(base64_decode(std::string_view("Zm9\0", 4)), std::nullopt);
}

TEST(RandomBytesTest, HasTheRequestedSizeAndVaries) {
  EXPECT_EQ(random_bytes(0), "");
  const std::string a = random_bytes(24);
  const std::string b = random_bytes(24);
  EXPECT_EQ(a.size(), 24u);
  EXPECT_EQ(b.size(), 24u);
  EXPECT_NE(a, b);  // 2^-192 chance of a false failure
}

TEST(PrimitivesTest, DigestMatchesFips180Vectors) {
  EXPECT_EQ(hex(internal::digest(Hash::kSha1, "abc")), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(hex(internal::digest(Hash::kSha256, "abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(internal::hash_size(Hash::kSha1), 20u);
  EXPECT_EQ(internal::hash_size(Hash::kSha256), 32u);
}

TEST(PrimitivesTest, HmacMatchesRfc2202AndRfc4231Vectors) {
  EXPECT_EQ(hex(internal::hmac(Hash::kSha1, "Jefe", "what do ya want for nothing?")),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
  EXPECT_EQ(hex(internal::hmac(Hash::kSha256, "Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // An empty key is legal in HMAC and must not crash.
  EXPECT_EQ(internal::hmac(Hash::kSha256, "", "").size(), 32u);
}

TEST(PrimitivesTest, SaltedPasswordMatchesRfc6070Vector) {
  EXPECT_EQ(hex(internal::salted_password(Hash::kSha1, "password", "salt", 4096)),
            "4b007901b765489abead49d926f721d065a429c1");
  EXPECT_EQ(hex(internal::salted_password(Hash::kSha256, "password", "salt", 4096)),
            "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a");
  EXPECT_EQ(internal::salted_password(Hash::kSha256, "password", "salt", 0), "");
}

TEST(PrimitivesTest, XorAndConstantTimeEqual) {
  EXPECT_EQ(internal::xor_bytes(std::string("\x0f\xf0", 2), std::string("\xff\xff", 2)),
            std::string("\xf0\x0f", 2));
  EXPECT_TRUE(internal::constant_time_equal("abc", "abc"));
  EXPECT_TRUE(internal::constant_time_equal("", ""));
  EXPECT_FALSE(internal::constant_time_equal("abc", "abd"));
  EXPECT_FALSE(internal::constant_time_equal("abc", "ab"));
}

TEST(DeriveCredentialsTest, MatchesRfc5802Example) {
  const ScramCredentials c =
      derive_credentials(Hash::kSha1, "pencil", *base64_decode("QSXCR+Q6sek8bf92"), 4096);
  EXPECT_EQ(c.salt, *base64_decode("QSXCR+Q6sek8bf92"));
  EXPECT_EQ(c.iterations, 4096);
  EXPECT_EQ(hex(c.stored_key), "e9d94660c39d65c38fbad91c358f14da0eef2bd6");
  EXPECT_EQ(hex(c.server_key), "0fe09258b3ac852ba502cc62ba903eaacdbf7d31");
}

TEST(DeriveCredentialsTest, MatchesRfc7677Example) {
  const ScramCredentials c =
      derive_credentials(Hash::kSha256, "pencil", *base64_decode("W22ZaJ0SNY7soEsUEjb6gQ=="), 4096);
  EXPECT_EQ(hex(c.stored_key), "586e5df283e6dceb5c3e791d8b8528ec191e664045ce971792e2e6b5bb13e2a6");
  EXPECT_EQ(hex(c.server_key), "c1f3cbc1c13a9d35a14c0990eed97629ea225863e566a4314ab99f3f00e5d9d5");
}

TEST(DeriveCredentialsTest, PreparesThePasswordWithSaslprep) {
  // U+00AD SOFT HYPHEN is mapped to nothing, U+2168 ROMAN NUMERAL NINE to "IX".
  const ScramCredentials plain = derive_credentials(Hash::kSha256, "IX", "salt", 64);
  EXPECT_EQ(derive_credentials(Hash::kSha256, "I\xC2\xADX", "salt", 64).stored_key,
            plain.stored_key);
  EXPECT_EQ(derive_credentials(Hash::kSha256, "\xE2\x85\xA8", "salt", 64).stored_key,
            plain.stored_key);
}

TEST(DeriveCredentialsTest, UsesRawBytesWhenSaslprepRefuses) {
  // U+0007 is prohibited: the password is hashed as sent.
  const std::string bell_password = "pw\x07";
  const std::string expected = internal::digest(
      Hash::kSha1,
      internal::hmac(Hash::kSha1, internal::salted_password(Hash::kSha1, bell_password, "s", 64),
                     "Client Key"));
  EXPECT_EQ(derive_credentials(Hash::kSha1, bell_password, "s", 64).stored_key, expected);
}

TEST(DeriveCredentialsTest, AcceptsCodePointsUnassignedInUnicode32) {
  // U+1F600 did not exist in Unicode 3.2; as a query SASLprep leaves it alone.
  const std::string emoji = "pass\xF0\x9F\x98\x80";
  const std::string expected = internal::digest(
      Hash::kSha256,
      internal::hmac(Hash::kSha256, internal::salted_password(Hash::kSha256, emoji, "s", 64),
                     "Client Key"));
  EXPECT_EQ(derive_credentials(Hash::kSha256, emoji, "s", 64).stored_key, expected);
}

TEST(DeriveCredentialsTest, ZeroIterationsGiveKeysThatMatchNothing) {
  const ScramCredentials c = derive_credentials(Hash::kSha256, "pencil", "salt", 0);
  EXPECT_EQ(c.stored_key, "");
  EXPECT_EQ(c.server_key, "");
}

}  // namespace
}  // namespace tern::sasl
