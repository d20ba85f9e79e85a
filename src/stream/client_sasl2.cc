// XEP-0388 (SASL2) on a client stream, with XEP-0386 (Bind 2) and XEP-0198
// resumption inline: the client authenticates and either resumes its
// session or binds and enables stream management, carbons and CSI, in one
// request, and the server answers with one <success/> and the
// stream features, without a stream restart. The mechanisms, their policy
// and the failure throttle are SASL1's (client_sasl.cc); this file speaks
// SASL2's XML and does what the request asks once authentication succeeds.
#include <algorithm>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/hex.h"
#include "core/log.h"
#include "stream/client_stream.h"
#include "stream/fast_tokens.h"
#include "xmpp/namespaces.h"
#include "xmpp/datetime.h"
#include "xml/serializer.h"

namespace tern::stream {

using xmpp::StreamCondition;

namespace {

// How long a FAST token lives. A phone that stays offline longer logs in
// with its password again.
constexpr std::int64_t kFastTokenLifetimeSeconds = 14 * 24 * 3600;

// The part of a Bind 2 resource after the client's tag. For the same
// account and user-agent id it is always the same, so a client that
// reconnects takes its own place back (and replaces a stale session of
// itself) instead of adding one resource per connection; keyed with a
// server secret, so the resource reveals nothing of the user-agent id,
// which FAST treats as part of a client's identity. Without an id: random.
std::string bind2_resource_id(const std::string& secret, const std::string& bare_jid,
                              const std::string& user_agent_id) {
  if (user_agent_id.empty()) return core::to_hex(sasl::random_bytes(8));
  std::string data = "bind2-resource";
  data += '\0' + bare_jid + '\0' + user_agent_id;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len);
  return core::to_hex(std::string_view(reinterpret_cast<const char*>(mac), 8));
}

}  // namespace

std::string ClientStream::sasl2_feature() const {
  std::string f = "<authentication xmlns='urn:xmpp:sasl:2'>";
  for (const auto& m : offered_mechanisms()) f += "<mechanism>" + m + "</mechanism>";
  f += "<inline>";
  // XEP-0198 "Inline Stream Resumption": <resume/> in <authenticate/>.
  if (ctx_.config.resume_timeout_seconds > 0) f += "<sm xmlns='urn:xmpp:sm:3'/>";
  f += "<bind xmlns='urn:xmpp:bind:0'><inline>"
       "<feature var='urn:xmpp:sm:3'/><feature var='urn:xmpp:csi:0'/>";
  for (const auto& extra : ctx_.inline_bind) {
    if (extra.feature.empty()) continue;
    f += "<feature var='";
    xml::append_escaped_attr(f, extra.feature);
    f += "'/>";
  }
  f += "</inline></bind>";
  if (auto fast = fast_mechanisms(); !fast.empty()) {
    // No 'tls-0rtt': we never accept TLS early data.
    f += "<fast xmlns='urn:xmpp:fast:0'>";
    for (const auto& m : fast) f += "<mechanism>" + m + "</mechanism>";
    f += "</fast>";
  }
  f += "</inline></authentication>";
  return f;
}

std::vector<std::string> ClientStream::fast_mechanisms() const {
  // A token is a password for one client: never over a readable path.
  if (!is_confidential()) return {};
  std::vector<std::string> out;
  if (const auto* cb = channel_bindings()) {
    if (cb->exporter) out.push_back("HT-SHA-256-EXPR");
    out.push_back("HT-SHA-256-ENDP");
  }
  out.push_back("HT-SHA-256-NONE");
  return out;
}

awaitable<std::string> ClientStream::fast_after_success(const Sasl2Authenticate& request) {
  if (request.user_agent_id.empty()) co_return std::string();
  FastSuccess success;
  success.used_token = std::exchange(fast_used_token_, {});
  success.invalidate = request.fast.invalidate;
  success.requested = request.fast.request_token;
  if (success.used_token.empty() && success.requested.empty()) co_return std::string();
  success.now = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::system_clock::now().time_since_epoch()).count();
  success.lifetime = kFastTokenLifetimeSeconds;
  const storage::AccountKey account{user_, domain_};
  const std::string secret = ctx_.fake_salt_secret;
  const std::string key = fast_document_key(secret, request.user_agent_id);
  std::optional<FastToken> issued;
  try {
    auto job = ctx_.blocking.run([&] {
      auto creds = ctx_.storage.accounts().credentials(account);
      if (!creds) return;
      success.credentials_tag = fast_credentials_tag(secret, creds->sha256);
      auto doc = ctx_.storage.documents().get(account, key);
      auto rotation = rotate_fast_tokens(doc ? decode_fast_tokens(*doc, secret, key) : std::nullopt,
                                         success, sasl::base64_encode(sasl::random_bytes(32)));
      if (rotation.set.tokens.empty()) {
        ctx_.storage.documents().remove(account, key);
      } else {
        ctx_.storage.documents().put(account, key, encode_fast_tokens(rotation.set, secret, key));
      }
      issued = rotation.issued;
    });
    co_await std::move(job);
  } catch (const std::exception& e) {
    spdlog::error("{}: storing FAST tokens failed: {}", log_id(), e.what());
    co_return std::string();
  }
  if (!issued) co_return std::string();
  std::string out = "<token xmlns='urn:xmpp:fast:0' expiry='";
  out += xmpp::format_datetime(std::chrono::system_clock::time_point(std::chrono::seconds(issued->expiry)));
  out += "' token='";
  xml::append_escaped_attr(out, issued->token);
  out += "'/>";
  co_return out;
}

awaitable<void> ClientStream::on_sasl2(xml::Element& el) {
  if (state_ != State::kNegotiating) {
    co_return fail(StreamCondition::kPolicyViolation, "already authenticated");
  }
  const auto& name = el.name();
  if (name == "abort") {
    mechanism_.reset();
    sasl2_.reset();
    send("<failure xmlns='urn:xmpp:sasl:2'>"
         "<aborted xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/></failure>");
    co_return;
  }
  if (name == "authenticate") {
    sasl_profile_ = SaslProfile::kSasl2;
    auto parsed = parse_sasl2_authenticate(el);
    if (!parsed.request) co_return co_await sasl_fail(parsed.failure);
    sasl2_ = std::make_unique<Sasl2Authenticate>(std::move(*parsed.request));
    if (const auto& wanted = sasl2_->fast.request_token; !wanted.empty()) {
      // A token for a mechanism we do not offer here would never work.
      auto fast = fast_mechanisms();
      if (std::find(fast.begin(), fast.end(), wanted) == fast.end()) {
        spdlog::info("{}: FAST token for unoffered mechanism {} not issued", log_id(), wanted);
        sasl2_->fast.request_token.clear();
      }
    }
    if (auto refused = start_mechanism(sasl2_->mechanism)) co_return co_await sasl_fail(*refused);
    if (!sasl2_->initial_response) {
      // No initial response: ask for it with an empty challenge.
      send("<challenge xmlns='urn:xmpp:sasl:2'/>");
      co_return;
    }
    std::string initial = *sasl2_->initial_response;
    co_return co_await sasl_step(initial);
  }
  if (name != "response" || !mechanism_ || sasl_profile_ != SaslProfile::kSasl2)
    co_return co_await sasl_fail(sasl::Failure::kMalformedRequest);
  auto data = decode_sasl2_data(el.text());
  if (!data) co_return co_await sasl_fail(sasl::Failure::kIncorrectEncoding);
  co_await sasl_step(*data);
}

// XEP-0388 §2.6.2: <success/> with the mechanism's additional data and who
// the client now is, carrying what the inline requests produced, then the
// features of the authenticated (or bound) stream, with no restart. A
// session resumed inline (XEP-0198 "Inline Stream Resumption") comes
// first: it makes the <bind/> of the same request moot, and the stream
// goes on as the resumed one, without features.
awaitable<void> ClientStream::sasl2_success(std::string additional_data) {
  auto request = std::move(sasl2_);
  std::string success = "<success xmlns='urn:xmpp:sasl:2'>";
  if (!additional_data.empty()) {
    success += "<additional-data>" + sasl::base64_encode(additional_data) + "</additional-data>";
  }
  // Stanzas for the new (or resumed) address wait until the client has
  // heard of it.
  binding_inline_ = true;
  std::string sm_answer;
  std::optional<Resumption> resumed;
  if (request && request->resume) {
    auto outcome = co_await take_over_session(request->resume->previd, request->resume->h);
    sm_answer = resume_answer_xml(outcome);
    if (auto* r = std::get_if<Resumption>(&outcome)) resumed = std::move(*r);
  }
  std::string bound;
  if (request && request->bind && !resumed && state_ == State::kAuthenticated) {
    bound = co_await bind2(*request->bind, request->user_agent_id);
  }
  std::string token;
  if (request && (state_ == State::kAuthenticated || state_ == State::kBound))
    token = co_await fast_after_success(*request);
  binding_inline_ = false;
  if (state_ != State::kAuthenticated && state_ != State::kBound) {  // closed meanwhile
    if (resumed) requeue_unacked(std::move(resumed->unacked));
    co_return requeue_unacked(std::exchange(resume_backlog_, {}));
  }
  const std::string identity =
      state_ == State::kBound ? jid().to_string() : user_ + "@" + domain_;
  success += "<authorization-identifier>";
  xml::append_escaped_text(success, identity);
  success += "</authorization-identifier>" + sm_answer + bound + token + "</success>";
  send(success);
  if (resumed) {
    spdlog::info("{}: resumed inline", log_id());
    co_return resend_after_resume(std::move(resumed->unacked));
  }
  send_features();
  if (state_ == State::kBound) {
    spdlog::info("{}: bound inline", log_id());
    router::SessionEvent ev{*this};
    ctx_.router.hooks().session_bound.run(ev);
    write_backlog();
  }
}

// XEP-0386: binds `tag/<id>` and runs what the request enables inline.
// Returns the <bound/> element, or nothing when no resource could be bound:
// the client then learns from the bare authorization identifier and the
// <bind/> feature that it should bind the usual way.
awaitable<std::string> ClientStream::bind2(const Bind2Request& request,
                                           const std::string& user_agent_id) {
  const std::string bare = user_ + "@" + domain_;
  const std::string resource = (request.tag.empty() ? std::string("tern") : request.tag) + "/" +
                               bind2_resource_id(ctx_.fake_salt_secret, bare, user_agent_id);
  auto refused = co_await bind_resource(resource);
  if (refused) {
    spdlog::info("{}: inline bind refused: {}", log_id(), xmpp::condition_name(refused->condition));
    co_return std::string();
  }
  if (state_ != State::kBound) co_return std::string();
  xml::Element bound("bound", ns::kBind2);
  for (const auto& feature : ctx_.inline_bind) {
    try {
      co_await feature.run(*this, request.element, bound);
    } catch (const std::exception& e) {
      spdlog::error("{}: inline bind feature '{}' failed: {}", log_id(), feature.feature, e.what());
    }
    if (state_ != State::kBound) co_return std::string();
  }
  if (request.inactive) csi_.set_inactive();
  std::string out = xml::to_string(bound, ns::kClient);
  if (request.enable_sm) {
    // <enabled/> goes inside <bound/>: reopen the element if it serialised empty.
    if (out.ends_with("/>")) {
      out.resize(out.size() - 2);
      out += "></bound>";
    }
    out.insert(out.size() - std::string_view("</bound>").size(),
               start_stream_management(request.sm_resume, request.sm_max));
  }
  co_return out;
}

}  // namespace tern::stream
