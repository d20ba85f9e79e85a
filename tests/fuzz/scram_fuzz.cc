// Feeds arbitrary client-first and client-final messages to the SCRAM server
// for one fixed account (user / pencil, salt "fuzz-salt", 4096 iterations).
//
// Input: one flags byte, then the steps separated by '\n':
//   flags bit 0: -PLUS mechanism      bit 1: ctx.plus_offered
//   flags bit 2: SHA-1 (else SHA-256) bit 3: start with an empty response
// The server nonce is fixed to "FUZZNONCE" so that seeds holding complete
// exchanges reach the proof check. Channel binding data: tls-exporter →
// 32 × 0x11, tls-server-end-point → 32 × 0x22.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "fuzz_support.h"
#include "sasl/mechanism.h"

using tern::fuzz::check;

namespace {

using tern::sasl::Hash;
using tern::sasl::Mechanism;

const tern::sasl::ScramCredentials& credentials(Hash h) {
  static const auto sha1 = tern::sasl::derive_credentials(Hash::kSha1, "pencil", "fuzz-salt", 4096);
  static const auto sha256 =
      tern::sasl::derive_credentials(Hash::kSha256, "pencil", "fuzz-salt", 4096);
  return h == Hash::kSha1 ? sha1 : sha256;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t flags = data[0];
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  const bool plus = flags & 1;
  const Hash hash = (flags & 4) ? Hash::kSha1 : Hash::kSha256;

  tern::sasl::Context ctx;
  ctx.lookup_scram = [](const std::string& user,
                        Hash h) -> std::optional<tern::sasl::ScramCredentials> {
    if (user != "user") return std::nullopt;
    return credentials(h);
  };
  ctx.channel_binding = [](std::string_view type) -> std::optional<std::string> {
    if (type == "tls-exporter") return std::string(32, '\x11');
    if (type == "tls-server-end-point") return std::string(32, '\x22');
    return std::nullopt;
  };
  ctx.plus_offered = flags & 2;
  ctx.fixed_server_nonce_for_tests = "FUZZNONCE";
  std::string name = hash == Hash::kSha1 ? "SCRAM-SHA-1" : "SCRAM-SHA-256";
  if (plus) name += "-PLUS";
  auto mechanism = tern::sasl::make_mechanism(name, ctx);
  check(mechanism != nullptr);

  if (flags & 8) check(mechanism->step("").kind == Mechanism::Step::kChallenge);

  bool finished = false;
  while (true) {
    const std::size_t newline = rest.find('\n');
    const std::string_view message = rest.substr(0, newline);
    const Mechanism::Step step = mechanism->step(message);
    if (finished) {
      // Nothing may follow a success or a failure except another failure.
      check(step.kind == Mechanism::Step::kFailure);
    }
    if (step.kind == Mechanism::Step::kSuccess) {
      check(mechanism->username() == "user");
      check(step.data.size() > 2 && step.data.compare(0, 2, "v=") == 0);
    }
    if (step.kind == Mechanism::Step::kFailure) check(step.data.empty());
    if (step.kind != Mechanism::Step::kChallenge) finished = true;
    if (newline == std::string_view::npos) break;
    rest.remove_prefix(newline + 1);
  }
  if (!finished) check(mechanism->username().empty());
  return 0;
}
