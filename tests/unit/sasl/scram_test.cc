#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "sasl/internal.h"
#include "sasl/mechanism.h"

namespace tern::sasl {
namespace {

using Kind = Mechanism::Step::Kind;

// The client half of SCRAM, written from RFC 5802 §3 independently of the
// server code, so that a full exchange checks one against the other.
struct TestClient {
  TestClient(Hash h, std::string pw, std::string gs2, std::string cb, std::string bare)
      : hash(h),
        password(std::move(pw)),
        gs2_header(std::move(gs2)),
        channel_binding(std::move(cb)),
        client_first_bare(std::move(bare)) {}

  Hash hash;
  std::string password;
  std::string gs2_header;         // e.g. "n,,", "p=tls-exporter,,"
  std::string channel_binding;    // appended to gs2_header in c=
  std::string client_first_bare;  // e.g. "n=user,r=abc"
  std::string extensions;         // inserted before p= in client-final
  std::string expected_server_final;

  std::string client_first() const { return gs2_header + client_first_bare; }

  std::string client_final(const std::string& server_first) {
    std::map<char, std::string> attrs;
    std::size_t start = 0;
    while (start <= server_first.size()) {
      std::size_t comma = server_first.find(',', start);
      if (comma == std::string::npos) comma = server_first.size();
      attrs[server_first[start]] = server_first.substr(start + 2, comma - start - 2);
      start = comma + 1;
    }
    const std::string salt = base64_decode(attrs['s']).value();
    const std::string salted =
        internal::salted_password(hash, password, salt, std::stoi(attrs['i']));
    const std::string client_key = internal::hmac(hash, salted, "Client Key");
    const std::string stored_key = internal::digest(hash, client_key);
    const std::string server_key = internal::hmac(hash, salted, "Server Key");
    std::string without_proof =
        "c=" + base64_encode(gs2_header + channel_binding) + ",r=" + attrs['r'];
    if (!extensions.empty()) without_proof += "," + extensions;
    const std::string auth_message = client_first_bare + "," + server_first + "," + without_proof;
    const std::string proof =
        internal::xor_bytes(client_key, internal::hmac(hash, stored_key, auth_message));
    expected_server_final = "v=" + base64_encode(internal::hmac(hash, server_key, auth_message));
    return without_proof + ",p=" + base64_encode(proof);
  }
};

const std::string kTlsExporter("\x01\x02\x00\xff exporter bytes \x7f,=", 24);
const std::string kTlsServerEndPoint(32, '\xab');

// A server with one account "user" / "pencil" per hash.
struct Server {
  std::map<std::pair<std::string, Hash>, ScramCredentials> accounts;
  std::vector<std::string> lookups;  // names the mechanism asked for
  bool has_tls_exporter = true;
  bool has_tls_server_end_point = true;
  bool plus_offered = true;
  std::string fixed_nonce;
  std::string fake_salt_secret;

  Server() {
    accounts[{"user", Hash::kSha1}] = derive_credentials(Hash::kSha1, "pencil", "salt-1", 4096);
    accounts[{"user", Hash::kSha256}] =
        derive_credentials(Hash::kSha256, "pencil", "salt-256", 4096);
  }

  std::unique_ptr<Mechanism> mechanism(std::string_view name) {
    Context ctx;
    ctx.lookup_scram = [this](const std::string& username,
                              Hash h) -> std::optional<ScramCredentials> {
      lookups.push_back(username);
      auto it = accounts.find({username, h});
      if (it == accounts.end()) return std::nullopt;
      return it->second;
    };
    ctx.channel_binding = [this](std::string_view type) -> std::optional<std::string> {
      if (type == "tls-exporter" && has_tls_exporter) return kTlsExporter;
      if (type == "tls-server-end-point" && has_tls_server_end_point) return kTlsServerEndPoint;
      return std::nullopt;
    };
    ctx.plus_offered = plus_offered;
    ctx.fixed_server_nonce_for_tests = fixed_nonce;
    ctx.fake_salt_secret = fake_salt_secret;
    auto m = make_mechanism(name, std::move(ctx));
    EXPECT_NE(m, nullptr) << name;
    return m;
  }
};

void expect_failure(const Mechanism::Step& step, Failure f) {
  EXPECT_EQ(step.kind, Kind::kFailure);
  EXPECT_EQ(failure_name(step.failure), std::string(failure_name(f)));
  EXPECT_EQ(step.data, "");
}

// --- The RFC examples, byte for byte. ---

TEST(ScramTest, Rfc5802Sha1Example) {
  Context ctx;
  ctx.lookup_scram = [](const std::string& username, Hash h) -> std::optional<ScramCredentials> {
    if (username != "user" || h != Hash::kSha1) return std::nullopt;
    return derive_credentials(Hash::kSha1, "pencil", *base64_decode("QSXCR+Q6sek8bf92"), 4096);
  };
  ctx.fixed_server_nonce_for_tests = "3rfcNHYJY1ZVvWVs7j";
  auto m = make_mechanism("SCRAM-SHA-1", ctx);
  ASSERT_NE(m, nullptr);

  auto first = m->step("n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL");
  EXPECT_EQ(first.kind, Kind::kChallenge);
  EXPECT_EQ(first.data, "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096");
  EXPECT_EQ(m->username(), "");  // nothing is claimed before success

  auto final =
      m->step("c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=");
  EXPECT_EQ(final.kind, Kind::kSuccess);
  EXPECT_EQ(final.data, "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=");
  EXPECT_EQ(m->username(), "user");
  EXPECT_EQ(m->authzid(), "");
}

TEST(ScramTest, Rfc7677Sha256Example) {
  Context ctx;
  ctx.lookup_scram = [](const std::string& username, Hash h) -> std::optional<ScramCredentials> {
    if (username != "user" || h != Hash::kSha256) return std::nullopt;
    return derive_credentials(Hash::kSha256, "pencil", *base64_decode("W22ZaJ0SNY7soEsUEjb6gQ=="),
                              4096);
  };
  ctx.fixed_server_nonce_for_tests = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
  auto m = make_mechanism("SCRAM-SHA-256", ctx);
  ASSERT_NE(m, nullptr);

  auto first = m->step("n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
  EXPECT_EQ(first.kind, Kind::kChallenge);
  EXPECT_EQ(first.data,
            "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,"
            "i=4096");

  auto final = m->step(
      "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
      "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
  EXPECT_EQ(final.kind, Kind::kSuccess);
  EXPECT_EQ(final.data, "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
  EXPECT_EQ(m->username(), "user");
}

// --- Full exchanges with channel binding. ---

struct PlusCase {
  const char* mechanism;
  Hash hash;
  const char* cb_type;
};

class ScramPlusTest : public testing::TestWithParam<PlusCase> {};

TEST_P(ScramPlusTest, FullExchangeSucceedsWithTheConnectionsBindingData) {
  const PlusCase& p = GetParam();
  Server server;
  auto m = server.mechanism(p.mechanism);
  TestClient client{p.hash, "pencil", std::string("p=") + p.cb_type + ",,",
                    std::string(p.cb_type) == "tls-exporter" ? kTlsExporter : kTlsServerEndPoint,
                    "n=user,r=clientnonce123"};
  auto first = m->step(client.client_first());
  ASSERT_EQ(first.kind, Kind::kChallenge);
  auto final = m->step(client.client_final(first.data));
  EXPECT_EQ(final.kind, Kind::kSuccess);
  EXPECT_EQ(final.data, client.expected_server_final);
  EXPECT_EQ(final.data.size(),
            2 + base64_encode(std::string(internal::hash_size(p.hash), 'x')).size());
  EXPECT_EQ(m->username(), "user");
}

TEST_P(ScramPlusTest, WrongBindingDataIsNotAuthorized) {
  const PlusCase& p = GetParam();
  Server server;
  auto m = server.mechanism(p.mechanism);
  // The client sits on another TLS connection (a man in the middle's).
  TestClient client{p.hash, "pencil", std::string("p=") + p.cb_type + ",,", "other channel",
                    "n=user,r=clientnonce123"};
  auto first = m->step(client.client_first());
  ASSERT_EQ(first.kind, Kind::kChallenge);
  expect_failure(m->step(client.client_final(first.data)), Failure::kNotAuthorized);
  EXPECT_EQ(m->username(), "");
}

TEST_P(ScramPlusTest, BindingTypeTheConnectionLacksIsNotAuthorized) {
  const PlusCase& p = GetParam();
  Server server;
  server.has_tls_exporter = false;
  server.has_tls_server_end_point = false;
  auto m = server.mechanism(p.mechanism);
  expect_failure(m->step(std::string("p=") + p.cb_type + ",,n=user,r=abc"),
                 Failure::kNotAuthorized);
}

TEST_P(ScramPlusTest, FlagsOtherThanPAreMalformedOnPlus) {
  const PlusCase& p = GetParam();
  Server server;
  expect_failure(server.mechanism(p.mechanism)->step("n,,n=user,r=abc"),
                 Failure::kMalformedRequest);
  expect_failure(server.mechanism(p.mechanism)->step("y,,n=user,r=abc"),
                 Failure::kMalformedRequest);
}

INSTANTIATE_TEST_SUITE_P(
    AllPlus, ScramPlusTest,
    testing::Values(PlusCase{"SCRAM-SHA-1-PLUS", Hash::kSha1, "tls-exporter"},
                    PlusCase{"SCRAM-SHA-1-PLUS", Hash::kSha1, "tls-server-end-point"},
                    PlusCase{"SCRAM-SHA-256-PLUS", Hash::kSha256, "tls-exporter"},
                    PlusCase{"SCRAM-SHA-256-PLUS", Hash::kSha256, "tls-server-end-point"}));

TEST(ScramTest, UnknownBindingTypeIsNotAuthorized) {
  Server server;
  expect_failure(server.mechanism("SCRAM-SHA-256-PLUS")->step("p=tls-unique,,n=user,r=abc"),
                 Failure::kNotAuthorized);
}

TEST(ScramTest, MissingChannelBindingCallbackIsNotAuthorized) {
  Context ctx;
  auto m = make_mechanism("SCRAM-SHA-256-PLUS", ctx);
  expect_failure(m->step("p=tls-exporter,,n=user,r=abc"), Failure::kNotAuthorized);
}

TEST(ScramTest, YFlagWhilePlusOfferedIsADowngrade) {
  Server server;
  server.plus_offered = true;
  expect_failure(server.mechanism("SCRAM-SHA-256")->step("y,,n=user,r=abc"),
                 Failure::kNotAuthorized);
  expect_failure(server.mechanism("SCRAM-SHA-1")->step("y,,n=user,r=abc"), Failure::kNotAuthorized);
}

TEST(ScramTest, YFlagWithoutPlusOfferedSucceeds) {
  Server server;
  server.plus_offered = false;
  auto m = server.mechanism("SCRAM-SHA-256");
  TestClient client{Hash::kSha256, "pencil", "y,,", "", "n=user,r=abc"};
  auto first = m->step(client.client_first());
  ASSERT_EQ(first.kind, Kind::kChallenge);
  const std::string final_message = client.client_final(first.data);
  EXPECT_EQ(final_message.substr(0, 7), "c=eSws,");  // base64("y,,")
  auto final = m->step(final_message);
  EXPECT_EQ(final.kind, Kind::kSuccess);
  EXPECT_EQ(final.data, client.expected_server_final);
}

TEST(ScramTest, NFlagSucceedsEvenWhenPlusOffered) {
  Server server;
  server.plus_offered = true;
  auto m = server.mechanism("SCRAM-SHA-1");
  TestClient client{Hash::kSha1, "pencil", "n,,", "", "n=user,r=abc"};
  auto first = m->step(client.client_first());
  auto final = m->step(client.client_final(first.data));
  EXPECT_EQ(final.kind, Kind::kSuccess);
  EXPECT_EQ(final.data, client.expected_server_final);
}

TEST(ScramTest, PFlagOnPlainScramIsMalformed) {
  Server server;
  expect_failure(server.mechanism("SCRAM-SHA-256")->step("p=tls-exporter,,n=user,r=abc"),
                 Failure::kMalformedRequest);
  expect_failure(server.mechanism("SCRAM-SHA-1")->step("p=tls-server-end-point,,n=user,r=abc"),
                 Failure::kMalformedRequest);
}

// A client-final whose c= repeats a different gs2 header than client-first.
TEST(ScramTest, Gs2HeaderChangedInClientFinalIsNotAuthorized) {
  Server server;
  server.plus_offered = false;
  auto m = server.mechanism("SCRAM-SHA-256");
  TestClient client{Hash::kSha256, "pencil", "n,,", "", "n=user,r=abc"};
  auto first = m->step("y,,n=user,r=abc");
  ASSERT_EQ(first.kind, Kind::kChallenge);
  expect_failure(m->step(client.client_final(first.data)), Failure::kNotAuthorized);
}

// --- Accounts. ---

TEST(ScramTest, WrongPasswordIsNotAuthorized) {
  Server server;
  auto m = server.mechanism("SCRAM-SHA-256");
  TestClient client{Hash::kSha256, "pincel", "n,,", "", "n=user,r=abc"};
  auto first = m->step(client.client_first());
  ASSERT_EQ(first.kind, Kind::kChallenge);
  expect_failure(m->step(client.client_final(first.data)), Failure::kNotAuthorized);
  EXPECT_EQ(m->username(), "");
}

TEST(ScramTest, UnknownUserFailsOnlyAtTheFinalStepAfterANormalLookingChallenge) {
  for (const char* name : {"SCRAM-SHA-1", "SCRAM-SHA-256"}) {
    Server server;
    auto m = server.mechanism(name);
    const Hash h = std::string(name) == "SCRAM-SHA-1" ? Hash::kSha1 : Hash::kSha256;
    TestClient client{h, "pencil", "n,,", "", "n=nobody,r=abc"};
    auto first = m->step(client.client_first());
    ASSERT_EQ(first.kind, Kind::kChallenge) << name;
    // Same shape as for an account: 32-character random nonce part, 16-byte
    // salt, the default iteration count.
    EXPECT_TRUE(std::regex_match(first.data,
                                 std::regex("r=abc[A-Za-z0-9+/]{32},s=[A-Za-z0-9+/]{22}==,i=4096")))
        << first.data;
    EXPECT_EQ(server.lookups, std::vector<std::string>{"nobody"});
    // Even with the "right" proof for the salt it was given.
    expect_failure(m->step(client.client_final(first.data)), Failure::kNotAuthorized);
    EXPECT_EQ(m->username(), "");
  }
}

std::string salt_of(const std::string& server_first) {
  const std::size_t s = server_first.find(",s=");
  return server_first.substr(s + 3, server_first.find(",i=") - s - 3);
}

TEST(ScramTest, FakeSaltIsStablePerNameAndDependsOnTheSecret) {
  Server server;
  const std::string a1 = salt_of(server.mechanism("SCRAM-SHA-256")->step("n,,n=ghost,r=x").data);
  const std::string a2 = salt_of(server.mechanism("SCRAM-SHA-256")->step("n,,n=ghost,r=y").data);
  const std::string b = salt_of(server.mechanism("SCRAM-SHA-256")->step("n,,n=phantom,r=x").data);
  EXPECT_EQ(a1, a2);  // a salt that changed between tries would reveal the fake
  EXPECT_NE(a1, b);
  // Without a secret the salt is the documented fallback.
  EXPECT_EQ(base64_decode(a1),
            internal::digest(Hash::kSha256, std::string("tern-fake-salt") + "ghost").substr(0, 16));
  server.fake_salt_secret = "server secret";
  const std::string c = salt_of(server.mechanism("SCRAM-SHA-256")->step("n,,n=ghost,r=x").data);
  EXPECT_EQ(base64_decode(c),
            internal::hmac(Hash::kSha256, "server secret", "ghost").substr(0, 16));
}

TEST(ScramTest, CorruptStoredCredentialsAreATemporaryFailure) {
  Server server;
  server.accounts[{"user", Hash::kSha256}].stored_key.resize(20);
  expect_failure(server.mechanism("SCRAM-SHA-256")->step("n,,n=user,r=abc"),
                 Failure::kTemporaryAuthFailure);
}

TEST(ScramTest, MissingLookupCallbackActsAsUnknownUser) {
  Context ctx;
  auto m = make_mechanism("SCRAM-SHA-256", ctx);
  TestClient client{Hash::kSha256, "pencil", "n,,", "", "n=user,r=abc"};
  auto first = m->step(client.client_first());
  ASSERT_EQ(first.kind, Kind::kChallenge);
  expect_failure(m->step(client.client_final(first.data)), Failure::kNotAuthorized);
}

// --- Names: escapes, SASLprep, authzid. ---

TEST(ScramTest, UsernameEscapesAreDecodedBeforeLookup) {
  Server server;
  server.accounts[{"a,b=c", Hash::kSha256}] =
      derive_credentials(Hash::kSha256, "pencil", "salt", 4096);
  auto m = server.mechanism("SCRAM-SHA-256");
  TestClient client{Hash::kSha256, "pencil", "n,,", "", "n=a=2Cb=3Dc,r=abc"};
  auto first = m->step(client.client_first());
  ASSERT_EQ(first.kind, Kind::kChallenge);
  EXPECT_EQ(server.lookups, std::vector<std::string>{"a,b=c"});
  EXPECT_EQ(m->step(client.client_final(first.data)).kind, Kind::kSuccess);
  EXPECT_EQ(m->username(), "a,b=c");
}

TEST(ScramTest, UsernameIsSaslpreppedBeforeLookup) {
  Server server;
  server.accounts[{"IX", Hash::kSha1}] = derive_credentials(Hash::kSha1, "pencil", "salt", 4096);
  auto m = server.mechanism("SCRAM-SHA-1");
  // U+2168 ROMAN NUMERAL NINE, as a client that skips SASLprep sends it.
  TestClient client{Hash::kSha1, "pencil", "n,,", "", "n=\xE2\x85\xA8,r=abc"};
  auto first = m->step(client.client_first());
  ASSERT_EQ(first.kind, Kind::kChallenge);
  EXPECT_EQ(server.lookups, std::vector<std::string>{"IX"});
  EXPECT_EQ(m->step(client.client_final(first.data)).kind, Kind::kSuccess);
  EXPECT_EQ(m->username(), "IX");
}

TEST(ScramTest, AuthzidIsDecodedAndReportedAfterSuccess) {
  Server server;
  auto m = server.mechanism("SCRAM-SHA-256");
  TestClient client{Hash::kSha256, "pencil", "n,a=ro=2Cmeo=3D@example.net,", "", "n=user,r=abc"};
  auto first = m->step(client.client_first());
  ASSERT_EQ(first.kind, Kind::kChallenge);
  EXPECT_EQ(m->authzid(), "");
  EXPECT_EQ(m->step(client.client_final(first.data)).kind, Kind::kSuccess);
  EXPECT_EQ(m->authzid(), "ro,meo=@example.net");
  EXPECT_EQ(m->username(), "user");
}

TEST(ScramTest, ExtensionsAreIgnoredButSigned) {
  Server server;
  auto m = server.mechanism("SCRAM-SHA-256");
  TestClient client{Hash::kSha256, "pencil", "n,,", "", "n=user,r=abc,x=first-ext"};
  client.extensions = "z=final-ext";
  auto first = m->step(client.client_first());
  ASSERT_EQ(first.kind, Kind::kChallenge);
  auto final = m->step(client.client_final(first.data));
  EXPECT_EQ(final.kind, Kind::kSuccess);
  EXPECT_EQ(final.data, client.expected_server_final);
}

// --- Malformed input. ---

TEST(ScramTest, MalformedClientFirstMessages) {
  for (const std::string& bad : std::vector<std::string>{
           std::string("n,,r=abc"),                 // missing n=
           std::string("n,,n=user"),                // missing r=
           std::string("n,,n=user,r="),             // empty nonce
           std::string("n,,r=abc,n=user"),          // wrong order
           std::string("n,,N=user,r=abc"),          // attribute names are case-sensitive
           std::string("n,,m=ext,n=user,r=abc"),    // mandatory extension
           std::string("n,,n=user,r=abc,m=ext"),    // "m" cannot hide later either
           std::string("n,,n=us=41er,r=abc"),       // bad escape
           std::string("n,,n=us=2cer,r=abc"),       // lower-case escape
           std::string("n,,n=user=,r=abc"),         // truncated escape
           std::string("n,,n=user=2,r=abc"),        // truncated escape
           std::string("n,,n=,r=abc"),              // empty name
           std::string("n,,n=\xC2\xAD,r=abc"),      // prepares to the empty string
           std::string("n,,n=user\x07,r=abc"),      // SASLprep: prohibited character
           std::string("n,,n=\xD8\xA7\x31,r=abc"),  // SASLprep: bidi
           std::string("n,,n=user\xFF,r=abc"),      // not UTF-8
           std::string("n,,n=user,r=a\x7fz"),       // nonce not printable
           std::string("n,,n=user,r=a c"),          // nonce not printable
           std::string("n,,n=user,r=abc,cd"),       // not an attribute
           std::string("n,,n=user,r=abc,"),         // empty attribute
           std::string("n,,n=user,r=abc,1=x"),      // attribute name not ALPHA
           std::string("n,,n=user,r=abc,x="),       // attribute without value
           std::string("n,,n=user,,r=abc"),         // empty attribute
           std::string("n,,n=user,r=abc\0", 16),    // NUL
           std::string("x,,n=user,r=abc"),          // unknown flag
           std::string("n,n=user,r=abc"),           // gs2 header cut short
           std::string("n"),                        //
           std::string("n,"),                       //
           std::string("n,,"),                      // no bare message
           std::string(",,n=user,r=abc"),           // no flag
           std::string("nn,,n=user,r=abc"),         //
           std::string("p,,n=user,r=abc"),          // p without a name
           std::string("p=,,n=user,r=abc"),         // empty cb-name
           std::string("n,a=,n=user,r=abc"),        // empty authzid
           std::string("n,a=x=3,n=user,r=abc"),     // bad authzid escape
           std::string("n,b=x,n=user,r=abc"),       // unknown gs2 field
           std::string("n,a=x,r=abc"),              // authzid, then missing n=
           std::string("n,a=x"),                    //
       }) {
    SCOPED_TRACE(bad);
    Server server;
    server.plus_offered = false;
    expect_failure(server.mechanism("SCRAM-SHA-256")->step(bad), Failure::kMalformedRequest);
  }
  // And the PLUS mechanism's own parser, which sees a cb-name first.
  for (const std::string& bad : std::vector<std::string>{
           std::string("p=tls exporter,,n=user,r=abc"),  // cb-name character
           std::string("p=tls-exporter"),                // cut short
           std::string("p=tls-exporter,n=user,r=abc"),   //
       }) {
    SCOPED_TRACE(bad);
    Server server;
    expect_failure(server.mechanism("SCRAM-SHA-256-PLUS")->step(bad), Failure::kMalformedRequest);
  }
}

// A mechanism that has answered a good client-first, and the client ready to
// answer it.
struct AfterFirst {
  Server server;
  std::unique_ptr<Mechanism> m;
  TestClient client{Hash::kSha256, "pencil", "n,,", "", "n=user,r=abc"};
  std::string server_first;
  std::string good_final;
  std::string nonce;

  AfterFirst() {
    server.fixed_nonce = "SERVERNONCE";
    m = server.mechanism("SCRAM-SHA-256");
    server_first = m->step(client.client_first()).data;
    good_final = client.client_final(server_first);
    nonce = "abcSERVERNONCE";
  }
};

TEST(ScramTest, MalformedClientFinalMessages) {
  AfterFirst probe;
  ASSERT_EQ(probe.server_first.substr(0, 17), "r=abcSERVERNONCE,");
  const std::string proof = probe.good_final.substr(probe.good_final.find(",p=") + 3);
  for (const std::string& bad : std::vector<std::string>{
           std::string(""),                                                     // empty
           "c=biws,p=" + proof,                                                 // missing r=
           "r=abcSERVERNONCE,p=" + proof,                                       // missing c=
           "c=biws,r=abcSERVERNONCE",                                           // missing p=
           "c=biws,r=abcSERVERNONCE,p=" + proof + ",x=y",                       // p= not last
           "r=abcSERVERNONCE,c=biws,p=" + proof,                                // order
           "c=biws=,r=abcSERVERNONCE,p=" + proof,                               // bad base64
           "c=bi ws,r=abcSERVERNONCE,p=" + proof,                               // bad base64
           "c=biws,r=abcSERVERNONCE,p=" + proof.substr(1),                      // bad base64
           "c=biws,r=abcSERVERNONCE,p=" + base64_encode(std::string(20, 'x')),  // proof length
           "c=biws,r=abcSERVERNONCE,p=",                                        // empty proof
           "c=biws,r=abc,p=" + proof,                                           // nonce mismatch
           "c=biws,r=abcSERVERNONCEX,p=" + proof,                               // nonce mismatch
           "c=biws,r=,p=" + proof,                                              // nonce mismatch
           "c=biws,r=abcSERVERNONCE,,p=" + proof,                               // empty attribute
           "c=biws,r=abcSERVERNONCE,junk,p=" + proof,                           // not an attribute
           "c=biws,r=abcSERVERNONCE,p=" + proof + "\xFF",                       // not UTF-8
           probe.client.client_first(),                                         // replayed first
       }) {
    SCOPED_TRACE(bad);
    AfterFirst f;
    expect_failure(f.m->step(bad), Failure::kMalformedRequest);
    EXPECT_EQ(f.m->username(), "");
  }
  // The unmodified message does succeed, so the failures above are the edits.
  AfterFirst f;
  EXPECT_EQ(f.m->step(f.good_final).kind, Kind::kSuccess);
}

TEST(ScramTest, TamperedProofIsNotAuthorized) {
  AfterFirst f;
  std::string tampered = f.good_final;
  const std::size_t p = tampered.find(",p=") + 3;
  tampered[p] = tampered[p] == 'A' ? 'B' : 'A';
  expect_failure(f.m->step(tampered), Failure::kNotAuthorized);
}

// --- State machine. ---

TEST(ScramTest, EmptyFirstResponseGetsAnEmptyChallenge) {
  Server server;
  auto m = server.mechanism("SCRAM-SHA-256");
  auto empty = m->step("");
  EXPECT_EQ(empty.kind, Kind::kChallenge);
  EXPECT_EQ(empty.data, "");
  TestClient client{Hash::kSha256, "pencil", "n,,", "", "n=user,r=abc"};
  auto first = m->step(client.client_first());
  ASSERT_EQ(first.kind, Kind::kChallenge);
  EXPECT_EQ(m->step(client.client_final(first.data)).kind, Kind::kSuccess);
}

TEST(ScramTest, EmptyResponseToTheEmptyChallengeIsMalformed) {
  Server server;
  auto m = server.mechanism("SCRAM-SHA-256");
  EXPECT_EQ(m->step("").kind, Kind::kChallenge);
  expect_failure(m->step(""), Failure::kMalformedRequest);
}

TEST(ScramTest, AnyStepAfterSuccessIsMalformed) {
  AfterFirst f;
  ASSERT_EQ(f.m->step(f.good_final).kind, Kind::kSuccess);
  expect_failure(f.m->step(f.good_final), Failure::kMalformedRequest);
  expect_failure(f.m->step(""), Failure::kMalformedRequest);
  EXPECT_EQ(f.m->username(), "user");  // the success stands
}

TEST(ScramTest, AnyStepAfterFailureIsMalformed) {
  Server server;
  auto m = server.mechanism("SCRAM-SHA-256");
  expect_failure(m->step("y,,n=user,r=abc"), Failure::kNotAuthorized);
  expect_failure(m->step("n,,n=user,r=abc"), Failure::kMalformedRequest);
}

TEST(ScramTest, ServerNonceIsRandomPrintableAndFresh) {
  Server server;
  const std::string a = server.mechanism("SCRAM-SHA-256")->step("n,,n=user,r=abc").data;
  const std::string b = server.mechanism("SCRAM-SHA-256")->step("n,,n=user,r=abc").data;
  const std::regex shape("r=abc([A-Za-z0-9+/]{32}),s=.*");
  std::smatch ma, mb;
  ASSERT_TRUE(std::regex_match(a, ma, shape)) << a;
  ASSERT_TRUE(std::regex_match(b, mb, shape)) << b;
  EXPECT_NE(ma[1].str(), mb[1].str());
}

}  // namespace
}  // namespace tern::sasl
