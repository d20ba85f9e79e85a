// Mechanism names → implementations, and failure condition names.
#include "sasl/mechanism.h"
#include "sasl/internal.h"

namespace tern::sasl {

const char* failure_name(Failure f) {
  switch (f) {
    case Failure::kAborted:
      return "aborted";
    case Failure::kAccountDisabled:
      return "account-disabled";
    case Failure::kCredentialsExpired:
      return "credentials-expired";
    case Failure::kEncryptionRequired:
      return "encryption-required";
    case Failure::kIncorrectEncoding:
      return "incorrect-encoding";
    case Failure::kInvalidAuthzid:
      return "invalid-authzid";
    case Failure::kInvalidMechanism:
      return "invalid-mechanism";
    case Failure::kMalformedRequest:
      return "malformed-request";
    case Failure::kMechanismTooWeak:
      return "mechanism-too-weak";
    case Failure::kNotAuthorized:
      return "not-authorized";
    case Failure::kTemporaryAuthFailure:
      return "temporary-auth-failure";
  }
  return "not-authorized";  // unreachable for valid enum values
}

std::unique_ptr<Mechanism> make_mechanism(std::string_view name, Context ctx,
                                          PlainVerifier plain_verifier) {
  // Mechanism names are matched exactly: RFC 4422 §3.1 makes them upper case
  // and RFC 6120 §6.4.2 sends them as offered.
  if (name == "SCRAM-SHA-1") return internal::make_scram(Hash::kSha1, false, std::move(ctx));
  if (name == "SCRAM-SHA-1-PLUS") return internal::make_scram(Hash::kSha1, true, std::move(ctx));
  if (name == "SCRAM-SHA-256") return internal::make_scram(Hash::kSha256, false, std::move(ctx));
  if (name == "SCRAM-SHA-256-PLUS") {
    return internal::make_scram(Hash::kSha256, true, std::move(ctx));
  }
  if (name == "PLAIN") return internal::make_plain(std::move(plain_verifier));
  if (name == "HT-SHA-256-NONE") return internal::make_ht(Hash::kSha256, "", std::move(ctx));
  if (name == "HT-SHA-256-UNIQ") return internal::make_ht(Hash::kSha256, "tls-unique", std::move(ctx));
  if (name == "HT-SHA-256-ENDP")
    return internal::make_ht(Hash::kSha256, "tls-server-end-point", std::move(ctx));
  if (name == "HT-SHA-256-EXPR") return internal::make_ht(Hash::kSha256, "tls-exporter", std::move(ctx));
  return nullptr;
}

}  // namespace tern::sasl
