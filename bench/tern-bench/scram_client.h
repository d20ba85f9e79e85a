// Client side of SCRAM-SHA-1 / SCRAM-SHA-256 without channel binding
// (gs2 header "n,,"), RFC 5802. PBKDF2 runs once per password, salt and
// iteration count; the derived keys are cached, as real clients do, so a
// login storm measures the server and not the generator.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "sasl/mechanism.h"
#include "tern-bench/worker.h"

namespace tern::bench {

class ScramClient {
 public:
  ScramClient(sasl::Hash hash, std::string_view user, std::string_view password,
              std::unordered_map<std::string, ScramKeys>& cache);
  // The initial response: gs2 header + client-first-message-bare.
  std::string first_message();
  // client-final-message for the server-first-message, or nullopt when the
  // server's message is malformed or does not extend our nonce.
  std::optional<std::string> final_message(std::string_view server_first);
  // Checks "v=..." (the server signature) from the server-final-message.
  bool verify_server_final(std::string_view server_final) const;

 private:
  sasl::Hash hash_;
  std::string user_, password_;
  std::unordered_map<std::string, ScramKeys>& cache_;
  std::string nonce_, first_bare_, server_signature_;
};

}  // namespace tern::bench
