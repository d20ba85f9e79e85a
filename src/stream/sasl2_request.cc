#include "stream/sasl2_request.h"

#include <charconv>

#include "xmpp/namespaces.h"
#include "xmpp/jid.h"

namespace tern::stream {
namespace {

// Long enough for any UUID spelling; longer ids are refused rather than
// stored and hashed without bound.
constexpr std::size_t kMaxUserAgentId = 128;
// A tag becomes part of a resource, which must stay short (RFC 7622: 1023).
constexpr std::size_t kMaxTag = 128;

bool is_true(std::string_view v) { return v == "true" || v == "1"; }

// An xs:unsignedInt, digits only.
std::optional<std::uint32_t> parse_uint32(std::string_view text) {
  std::uint32_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return v;
}

std::optional<Bind2Request> parse_bind(const xml::Element& bind) {
  Bind2Request out;
  std::string tag = bind.child_text("tag", ns::kBind2);
  if (!tag.empty()) {
    auto prepped = xmpp::resourceprep(tag);
    if (!prepped || prepped->empty() || prepped->size() > kMaxTag) return std::nullopt;
    out.tag = *prepped;
  }
  if (const auto* enable = bind.child("enable", ns::kSm)) {
    out.enable_sm = true;
    out.sm_resume = is_true(enable->attr_or("resume"));
    out.sm_max = parse_uint32(enable->attr_or("max")).value_or(0);
  }
  out.inactive = bind.child("inactive", ns::kCsi) != nullptr;
  out.element = bind;
  return out;
}

}  // namespace

std::optional<std::string> decode_sasl2_data(const std::string& text) {
  if (text.empty() || text == "=") return std::string();
  return sasl::base64_decode(text);
}

Sasl2Parse parse_sasl2_authenticate(const xml::Element& el) {
  Sasl2Parse result;
  Sasl2Authenticate req;
  req.mechanism = std::string(el.attr_or("mechanism"));
  if (req.mechanism.empty()) return result;
  if (const auto* initial = el.child("initial-response", ns::kSasl2)) {
    req.initial_response = decode_sasl2_data(initial->text());
    if (!req.initial_response) {
      result.failure = sasl::Failure::kIncorrectEncoding;
      return result;
    }
  }
  if (const auto* ua = el.child("user-agent", ns::kSasl2)) {
    req.user_agent_id = std::string(ua->attr_or("id"));
    if (req.user_agent_id.size() > kMaxUserAgentId) return result;
  }
  if (const auto* bind = el.child("bind", ns::kBind2)) {
    req.bind = parse_bind(*bind);
    if (!req.bind) return result;
  }
  if (const auto* request_token = el.child("request-token", ns::kFast)) {
    req.fast.request_token = std::string(request_token->attr_or("mechanism"));
    if (req.fast.request_token.empty()) return result;
  }
  if (const auto* fast = el.child("fast", ns::kFast)) {
    req.fast.uses_token = true;
    req.fast.invalidate = is_true(fast->attr_or("invalidate"));
  }
  if (const auto* resume = el.child("resume", ns::kSm)) {
    req.resume = SmResumeRequest{std::string(resume->attr_or("previd")),
                                 parse_uint32(resume->attr_or("h"))};
  }
  result.request = std::move(req);
  return result;
}

}  // namespace tern::stream
