// PLAIN (RFC 4616): message = [authzid] NUL authcid NUL passwd.
#include "sasl/internal.h"
#include "sasl/mechanism.h"

namespace tern::sasl {
namespace {

class PlainMechanism final : public Mechanism {
 public:
  explicit PlainMechanism(PlainVerifier verifier) : verifier_(std::move(verifier)) {}

  Step step(std::string_view client_data) override {
    if (done_) return fail(Failure::kMalformedRequest);
    // An empty first response means the client sent no initial response
    // (PLAIN's message is never empty): ask for it with an empty challenge.
    if (client_data.empty() && !asked_for_response_) {
      asked_for_response_ = true;
      return Step{Step::kChallenge, {}};
    }
    done_ = true;

    const std::size_t nul1 = client_data.find('\0');
    if (nul1 == std::string_view::npos) return fail(Failure::kMalformedRequest);
    const std::size_t nul2 = client_data.find('\0', nul1 + 1);
    if (nul2 == std::string_view::npos) return fail(Failure::kMalformedRequest);
    if (client_data.find('\0', nul2 + 1) != std::string_view::npos) {
      return fail(Failure::kMalformedRequest);
    }
    const std::string_view authzid = client_data.substr(0, nul1);
    const std::string_view authcid = client_data.substr(nul1 + 1, nul2 - nul1 - 1);
    const std::string_view passwd = client_data.substr(nul2 + 1);
    // The grammar asks for non-empty UTF-8 in each part (authzid optional).
    if (authcid.empty() || passwd.empty()) return fail(Failure::kMalformedRequest);
    if (!internal::is_utf8_without_nul(authzid) || !internal::is_utf8_without_nul(authcid) ||
        !internal::is_utf8_without_nul(passwd)) {
      return fail(Failure::kMalformedRequest);
    }

    // RFC 4616 §4: an identity that fails preparation fails verification.
    std::optional<std::string> user = internal::saslprep_query(authcid);
    if (!user || user->empty()) return fail(Failure::kNotAuthorized);
    // The password is prepared the way derive_credentials() prepared it when
    // it was stored, falling back to the raw bytes when SASLprep refuses it,
    // so any password that could be set can also be checked.
    std::optional<std::string> password = internal::saslprep_query(passwd);
    if (!password || password->empty()) password = std::string(passwd);

    if (!verifier_) return fail(Failure::kTemporaryAuthFailure);
    if (!verifier_(*user, *password)) return fail(Failure::kNotAuthorized);
    username_ = std::move(*user);
    authzid_ = std::string(authzid);
    return Step{Step::kSuccess, {}};
  }

  const std::string& username() const override { return username_; }
  const std::string& authzid() const override { return authzid_; }

 private:
  Step fail(Failure f) {
    done_ = true;
    return Step{Step::kFailure, {}, f};
  }

  PlainVerifier verifier_;
  bool asked_for_response_ = false;
  bool done_ = false;
  std::string username_;
  std::string authzid_;
};

}  // namespace

std::unique_ptr<Mechanism> internal::make_plain(PlainVerifier verifier) {
  return std::make_unique<PlainMechanism>(std::move(verifier));
}

}  // namespace tern::sasl
