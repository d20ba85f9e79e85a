// Authentication: what one login costs the server's CPU.
//
// SCRAM never runs PBKDF2 on the server during a login (the stored keys are
// enough), so an exchange is a few HMACs, a random nonce and string work.
// PLAIN has to re-derive the stored key from the password it receives, at
// the stored iteration count, which is why a login with PLAIN costs about
// as much as derive_credentials().
//
// sasl/internal.h is private to src/sasl/ and its tests; the client half of
// SCRAM uses its primitives here the way tests/unit/sasl/scram_test.cc does.
#include <benchmark/benchmark.h>

#include <optional>
#include <string>
#include <string_view>

#include "sasl/internal.h"
#include "sasl/mechanism.h"
#include "xmpp/jid.h"

namespace {

using tern::sasl::Hash;
using tern::sasl::Mechanism;
using tern::sasl::ScramCredentials;
namespace internal = tern::sasl::internal;

constexpr int kIterations = 4096;
constexpr std::string_view kUser = "juliet";
constexpr std::string_view kPassword = "r0m30-0-r0m30";

const std::string& salt() {
  static const std::string s = tern::sasl::random_bytes(16);
  return s;
}

const ScramCredentials& stored_credentials() {
  static const ScramCredentials c =
      tern::sasl::derive_credentials(Hash::kSha256, kPassword, salt(), kIterations);
  return c;
}

// What the c2s stream hands the mechanism, with storage replaced by the one
// stored record: the username is nodeprep'd as the stream does.
tern::sasl::Context server_context() {
  tern::sasl::Context ctx;
  ctx.lookup_scram = [](const std::string& username, Hash h) -> std::optional<ScramCredentials> {
    auto node = tern::xmpp::nodeprep(username);
    if (!node || *node != kUser || h != Hash::kSha256) return std::nullopt;
    return stored_credentials();
  };
  ctx.channel_binding = [](std::string_view) -> std::optional<std::string> { return std::nullopt; };
  return ctx;
}

// The client half of SCRAM-SHA-256 (RFC 5802 §3). The salted password is
// computed once, as a real client caches it; what is left per exchange is
// its nonce, the proof and the expected server signature.
class ScramClient {
 public:
  ScramClient() {
    const std::string salted =
        internal::salted_password(Hash::kSha256, kPassword, salt(), kIterations);
    client_key_ = internal::hmac(Hash::kSha256, salted, "Client Key");
    stored_key_ = internal::digest(Hash::kSha256, client_key_);
    server_key_ = internal::hmac(Hash::kSha256, salted, "Server Key");
  }

  std::string client_first() {
    client_first_bare_ =
        "n=" + std::string(kUser) + ",r=" + tern::sasl::base64_encode(tern::sasl::random_bytes(18));
    return "n,," + client_first_bare_;
  }

  // Empty when the server-first message lacks the nonce.
  std::string client_final(const std::string& server_first) {
    const std::size_t r = server_first.find("r=");
    if (r != 0) return {};
    const std::size_t comma = server_first.find(',');
    const std::string nonce = server_first.substr(2, comma - 2);
    const std::string without_proof = "c=biws,r=" + nonce;  // biws = base64("n,,")
    const std::string auth_message = client_first_bare_ + "," + server_first + "," + without_proof;
    const std::string proof =
        internal::xor_bytes(client_key_, internal::hmac(Hash::kSha256, stored_key_, auth_message));
    expected_server_final_ =
        "v=" + tern::sasl::base64_encode(internal::hmac(Hash::kSha256, server_key_, auth_message));
    return without_proof + ",p=" + tern::sasl::base64_encode(proof);
  }

  const std::string& expected_server_final() const { return expected_server_final_; }

 private:
  std::string client_key_, stored_key_, server_key_;
  std::string client_first_bare_;
  std::string expected_server_final_;
};

// One full SCRAM-SHA-256 login, server side only: the mechanism is made,
// takes client-first, answers, takes client-final and signs. The client's
// work (its nonce and proof) is done with the timer paused.
void BM_ScramSha256Exchange_Server(benchmark::State& state) {
  ScramClient client;
  const tern::sasl::Context ctx = server_context();
  for (auto _ : state) {
    state.PauseTiming();
    const std::string first = client.client_first();
    state.ResumeTiming();

    auto mech = tern::sasl::make_mechanism("SCRAM-SHA-256", ctx);
    auto challenge = mech->step(first);

    state.PauseTiming();
    const std::string final_message = client.client_final(challenge.data);
    state.ResumeTiming();

    auto outcome = mech->step(final_message);
    if (challenge.kind != Mechanism::Step::kChallenge ||
        outcome.kind != Mechanism::Step::kSuccess ||
        outcome.data != client.expected_server_final()) {
      state.SkipWithError("SCRAM exchange did not succeed");
      break;
    }
    benchmark::DoNotOptimize(outcome);
  }
}
BENCHMARK(BM_ScramSha256Exchange_Server);

// The same exchange with both halves timed: what a login costs when the
// generator and the server share the machine (tern-bench's login scenario).
void BM_ScramSha256Exchange_ClientAndServer(benchmark::State& state) {
  ScramClient client;
  const tern::sasl::Context ctx = server_context();
  for (auto _ : state) {
    auto mech = tern::sasl::make_mechanism("SCRAM-SHA-256", ctx);
    auto challenge = mech->step(client.client_first());
    auto outcome = mech->step(client.client_final(challenge.data));
    if (outcome.kind != Mechanism::Step::kSuccess ||
        outcome.data != client.expected_server_final()) {
      state.SkipWithError("SCRAM exchange did not succeed");
      break;
    }
    benchmark::DoNotOptimize(outcome);
  }
}
BENCHMARK(BM_ScramSha256Exchange_ClientAndServer);

// Setting a password: PBKDF2 at the default iteration count.
void BM_DeriveCredentials4096(benchmark::State& state) {
  const Hash hash = state.range(0) == 1 ? Hash::kSha1 : Hash::kSha256;
  state.SetLabel(hash == Hash::kSha1 ? "SHA-1" : "SHA-256");
  for (auto _ : state) {
    benchmark::DoNotOptimize(tern::sasl::derive_credentials(hash, kPassword, salt(), kIterations));
  }
}
BENCHMARK(BM_DeriveCredentials4096)->Arg(256)->Arg(1)->Unit(benchmark::kMicrosecond);

// The PLAIN message as a client sends it: [authzid] NUL authcid NUL passwd.
std::string plain_message() {
  std::string m;
  m += '\0';
  m += kUser;
  m += '\0';
  m += kPassword;
  return m;
}

// A PLAIN login checked the way SqliteAccounts::check_password checks it
// (re-derive with the stored salt and iterations, compare the stored key in
// constant time), minus the SQLite query.
void BM_PlainVerify(benchmark::State& state) {
  const std::string message = plain_message();
  auto verify = [](const std::string& user, const std::string& password) {
    auto node = tern::xmpp::nodeprep(user);
    if (!node || *node != kUser) return false;
    const ScramCredentials& stored = stored_credentials();
    const ScramCredentials candidate =
        tern::sasl::derive_credentials(Hash::kSha256, password, stored.salt, stored.iterations);
    return internal::constant_time_equal(candidate.stored_key, stored.stored_key);
  };
  for (auto _ : state) {
    auto mech = tern::sasl::make_mechanism("PLAIN", {}, verify);
    auto outcome = mech->step(message);
    if (outcome.kind != Mechanism::Step::kSuccess) {
      state.SkipWithError("PLAIN login did not succeed");
      break;
    }
    benchmark::DoNotOptimize(outcome);
  }
}
BENCHMARK(BM_PlainVerify)->Unit(benchmark::kMicrosecond);

// PLAIN's own work (splitting the message, SASLprep of name and password)
// with a verifier that costs nothing: the overhead above the key derivation.
void BM_PlainMechanismOnly(benchmark::State& state) {
  const std::string message = plain_message();
  auto verify = [](const std::string& user, const std::string&) { return user == kUser; };
  for (auto _ : state) {
    auto mech = tern::sasl::make_mechanism("PLAIN", {}, verify);
    auto outcome = mech->step(message);
    if (outcome.kind != Mechanism::Step::kSuccess) {
      state.SkipWithError("PLAIN login did not succeed");
      break;
    }
    benchmark::DoNotOptimize(outcome);
  }
}
BENCHMARK(BM_PlainMechanismOnly);

}  // namespace
