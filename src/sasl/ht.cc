// HT-SHA-256-{NONE,UNIQ,ENDP,EXPR} (draft-schmaus-kitten-sasl-ht-08), the
// token mechanisms of XEP-0484 (FAST): one message each way.
//   client: authcid NUL HMAC(token, "Initiator" || cb-data)
//   server: HMAC(token, "Responder" || cb-data), as additional data with
//           success, so the client knows the server holds the token too.
// cb-data is empty for NONE, else the channel binding named by the suffix.
// The token is the HMAC key as the client received it (its text bytes).
#include "sasl/internal.h"
#include "sasl/mechanism.h"

namespace tern::sasl {
namespace {

class HtMechanism final : public Mechanism {
 public:
  HtMechanism(Hash hash, std::string cb_type, Context ctx)
      : hash_(hash), cb_type_(std::move(cb_type)), ctx_(std::move(ctx)) {}

  Step step(std::string_view client_data) override {
    if (done_) return fail(Failure::kMalformedRequest);
    done_ = true;
    const auto nul = client_data.find('\0');
    if (nul == std::string_view::npos || nul == 0) return fail(Failure::kMalformedRequest);
    const auto authcid = client_data.substr(0, nul);
    const auto proof = client_data.substr(nul + 1);
    if (proof.size() != internal::hash_size(hash_) || !internal::is_utf8_without_nul(authcid))
      return fail(Failure::kMalformedRequest);
    auto user = internal::saslprep_query(authcid);
    if (!user || user->empty()) return fail(Failure::kNotAuthorized);
    std::string cb_data;
    if (!cb_type_.empty()) {
      auto data = ctx_.channel_binding ? ctx_.channel_binding(cb_type_) : std::nullopt;
      if (!data) return fail(Failure::kNotAuthorized);  // not offered on this channel
      cb_data = std::move(*data);
    }
    const auto tokens = ctx_.fast_tokens ? ctx_.fast_tokens(*user) : std::vector<std::string>{};
    for (const auto& token : tokens) {
      if (!internal::constant_time_equal(internal::hmac(hash_, token, "Initiator" + cb_data), proof))
        continue;
      username_ = *user;
      used_token_ = token;
      return Step{Step::kSuccess, internal::hmac(hash_, token, "Responder" + cb_data)};
    }
    return fail(Failure::kNotAuthorized);
  }

  const std::string& username() const override { return username_; }
  const std::string& authzid() const override { return authzid_; }
  const std::string& used_token() const override { return used_token_; }

 private:
  static Step fail(Failure f) { return Step{Step::kFailure, {}, f}; }

  Hash hash_;
  std::string cb_type_;
  Context ctx_;
  bool done_ = false;
  std::string username_, authzid_, used_token_;
};

}  // namespace

namespace internal {
std::unique_ptr<Mechanism> make_ht(Hash hash, std::string cb_type, Context ctx) {
  return std::make_unique<HtMechanism>(hash, std::move(cb_type), std::move(ctx));
}
}  // namespace internal

}  // namespace tern::sasl
