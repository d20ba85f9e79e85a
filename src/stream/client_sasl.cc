// SASL negotiation on a client stream (RFC 6120 §6), for both profiles:
// RFC 6120's and XEP-0388's SASL2 (client_sasl2.cc speaks its XML). The
// mechanisms do the arithmetic; this file picks them, runs each step on the
// blocking pool (credential lookups and PBKDF2 must not stall the shard) and
// applies the retry and throttling policy, the same for both.
#include "core/log.h"
#include "stream/client_stream.h"
#include "stream/fast_tokens.h"
#include "transport/tls.h"
#include "xmpp/namespaces.h"

namespace tern::stream {

using xmpp::StreamCondition;

namespace {

std::string challenge_xml(ClientStream::SaslProfile profile, const std::string& data) {
  if (profile == ClientStream::SaslProfile::kSasl2) {
    // XEP-0388: plain base64, empty data as an empty element.
    return "<challenge xmlns='urn:xmpp:sasl:2'>" + sasl::base64_encode(data) + "</challenge>";
  }
  // RFC 6120 §6.4.2: data of zero length is sent as a single '='.
  return "<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>" +
         (data.empty() ? std::string("=") : sasl::base64_encode(data)) + "</challenge>";
}

std::string failure_xml(ClientStream::SaslProfile profile, sasl::Failure f) {
  // XEP-0388 §2.6.3: the RFC 6120 condition, in its own namespace, inside
  // SASL2's <failure/>.
  if (profile == ClientStream::SaslProfile::kSasl2)
    return std::string("<failure xmlns='urn:xmpp:sasl:2'><") + sasl::failure_name(f) +
           " xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/></failure>";
  return std::string("<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><") + sasl::failure_name(f) +
         "/></failure>";
}

std::optional<std::string> decode_sasl_data(const std::string& text) {
  if (text == "=") return std::string();
  return sasl::base64_decode(text);
}

}  // namespace

std::vector<std::string> ClientStream::offered_mechanisms() const {
  // -PLUS needs a channel to bind to (TLS we terminate ourselves).
  if (channel_bindings())
    return {"SCRAM-SHA-256-PLUS", "SCRAM-SHA-1-PLUS", "SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"};
  // A trusted path (TLS at a proxy in front, or loopback) is as good as TLS,
  // minus channel binding.
  if (is_confidential()) return {"SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"};
  // Over plain HTTP nothing: a browser page served in clear is as
  // tamperable as the password. Elsewhere PLAIN would show the password to
  // anyone on the path, SCRAM does not.
  if (!offers_scram_in_clear()) return {};
  return {"SCRAM-SHA-256", "SCRAM-SHA-1"};
}

sasl::Context ClientStream::sasl_context(const std::string& mech) {
  sasl::Context c;
  c.plus_offered = channel_bindings() != nullptr;
  c.fake_salt_secret = ctx_.fake_salt_secret;
  // Channel binding data is read here, on the shard, and handed over by
  // value: the step runs on the pool while this connection may be writing.
  std::optional<std::string> exporter, endpoint, unique;
  if (const auto* cb = channel_bindings()) {
    exporter = cb->exporter;
    endpoint = cb->server_end_point;
    unique = cb->unique;
  }
  c.channel_binding = [exporter, endpoint, unique](std::string_view type) -> std::optional<std::string> {
    if (type == "tls-exporter") return exporter;
    if (type == "tls-server-end-point") return endpoint;
    if (type == "tls-unique") return unique;
    return std::nullopt;
  };
  c.lookup_scram = [&storage = ctx_.storage, domain = domain_](
                       const std::string& username,
                       sasl::Hash hash) -> std::optional<sasl::ScramCredentials> {
    auto node = xmpp::nodeprep(username);
    if (!node) return std::nullopt;
    auto creds = storage.accounts().credentials({*node, domain});
    if (!creds) return std::nullopt;
    return hash == sasl::Hash::kSha1 ? creds->sha1 : creds->sha256;
  };
  if (sasl_profile_ == SaslProfile::kSasl2 && sasl2_ && !sasl2_->user_agent_id.empty()) {
    // XEP-0484: the tokens this client (user-agent id) holds for `mech`.
    c.fast_tokens = [&storage = ctx_.storage, domain = domain_, secret = ctx_.fake_salt_secret,
                     key = fast_document_key(ctx_.fake_salt_secret, sasl2_->user_agent_id),
                     mech](const std::string& username) -> std::vector<std::string> {
      auto node = xmpp::nodeprep(username);
      if (!node) return {};
      const storage::AccountKey account{*node, domain};
      auto creds = storage.accounts().credentials(account);
      auto doc = creds ? storage.documents().get(account, key) : std::nullopt;
      auto set = doc ? decode_fast_tokens(*doc, secret, key) : std::nullopt;
      if (!set) return {};
      const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch()).count();
      return usable_fast_tokens(*set, mech, fast_credentials_tag(secret, creds->sha256), now);
    };
  }
  return c;
}

std::optional<sasl::Failure> ClientStream::start_mechanism(const std::string& mech) {
  auto offered = offered_mechanisms();
  if (sasl_profile_ == SaslProfile::kSasl2 && sasl2_ && sasl2_->fast.uses_token) {
    // A FAST token: only its own mechanisms, and only for a client that
    // says who it is (the token belongs to that user-agent id).
    offered = fast_mechanisms();
    if (sasl2_->user_agent_id.empty()) offered.clear();
  }
  if (std::find(offered.begin(), offered.end(), mech) == offered.end()) {
    return mech == "PLAIN" && !is_confidential() ? sasl::Failure::kEncryptionRequired
                                                 : sasl::Failure::kInvalidMechanism;
  }
  auto verify_plain = [&storage = ctx_.storage, domain = domain_](const std::string& user,
                                                                  const std::string& password) {
    auto node = xmpp::nodeprep(user);
    return node && storage.accounts().check_password({*node, domain}, password);
  };
  mechanism_ = sasl::make_mechanism(mech, sasl_context(mech), verify_plain);
  if (!mechanism_) return sasl::Failure::kInvalidMechanism;
  return std::nullopt;
}

awaitable<void> ClientStream::on_sasl(xml::Element& el) {
  if (state_ != State::kNegotiating) {
    co_return fail(StreamCondition::kPolicyViolation, "already authenticated");
  }
  const auto& name = el.name();
  if (name == "abort") {
    mechanism_.reset();
    send("<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><aborted/></failure>");
    co_return;
  }
  if (name != "auth" && name != "response") co_return co_await sasl_fail(sasl::Failure::kMalformedRequest);
  if (name == "response" && !mechanism_) co_return co_await sasl_fail(sasl::Failure::kMalformedRequest);

  if (name == "auth") {
    sasl_profile_ = SaslProfile::kSasl1;
    if (auto refused = start_mechanism(std::string(el.attr_or("mechanism"))))
      co_return co_await sasl_fail(*refused);
    std::string text = el.text();
    if (text.empty()) {
      // No initial response: ask for it with an empty challenge (RFC 6120 §6.4.2).
      send("<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>=</challenge>");
      co_return;
    }
  } else if (sasl_profile_ != SaslProfile::kSasl1) {
    co_return co_await sasl_fail(sasl::Failure::kMalformedRequest);
  }
  std::optional<std::string> data = decode_sasl_data(el.text());
  if (!data) co_return co_await sasl_fail(sasl::Failure::kIncorrectEncoding);
  co_await sasl_step(*data);
}

awaitable<void> ClientStream::sasl_step(std::string_view client_data) {
  auto* mech = mechanism_.get();
  std::string input(client_data);
  auto step = co_await ctx_.blocking.run([&] { return mech->step(input); });
  if (state_ != State::kNegotiating) co_return;  // closed meanwhile
  switch (step.kind) {
    case sasl::Mechanism::Step::kChallenge:
      send(challenge_xml(sasl_profile_, step.data));
      co_return;
    case sasl::Mechanism::Step::kFailure:
      co_return co_await sasl_fail(step.failure);
    case sasl::Mechanism::Step::kSuccess:
      break;
  }
  auto node = xmpp::nodeprep(mech->username());
  if (!node) co_return co_await sasl_fail(sasl::Failure::kNotAuthorized);
  if (!mech->authzid().empty()) {
    // We authorize only as oneself (RFC 6120 §6.4.6).
    auto authz = xmpp::Jid::parse(mech->authzid());
    if (!authz || authz->node() != *node || authz->domain() != domain_ || authz->has_resource())
      co_return co_await sasl_fail(sasl::Failure::kInvalidAuthzid);
  }
  user_ = *node;
  fast_used_token_ = mech->used_token();
  mechanism_.reset();
  ctx_.throttle.record_success(remote_ip_);
  forget_channel_bindings();
  spdlog::info("{}: authenticated as {}@{}", log_id(), user_, domain_);
  if (auto* c = counters()) bump(c->logins[static_cast<int>(metrics_kind_)]);
  state_ = State::kAuthenticated;
  if (sasl_profile_ == SaslProfile::kSasl2) co_return co_await sasl2_success(step.data);
  // No string temporaries in conditional expressions inside coroutines:
  // GCC 12 destroys them twice.
  std::string success = "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'";
  if (step.data.empty()) {
    success += "/>";
  } else {
    success += ">" + sasl::base64_encode(step.data) + "</success>";
  }
  send(success);
  header_sent_ = false;
  on_stream_restart();
}

awaitable<void> ClientStream::sasl_fail(sasl::Failure f) {
  mechanism_.reset();
  if (auto* c = counters()) bump(c->login_failures[static_cast<int>(metrics_kind_)]);
  if (f == sasl::Failure::kNotAuthorized) {
    auto delay = ctx_.throttle.record_failure(remote_ip_);
    if (delay.count() > 0) {
      spdlog::info("{}: authentication failures from this address; answering in {} ms", log_id(),
                   delay.count());
      asio::steady_timer t(executor_, delay);
      boost::system::error_code ec;
      co_await t.async_wait(asio::redirect_error(use_awaitable, ec));
    }
  }
  if (state_ != State::kNegotiating) co_return;
  spdlog::info("{}: SASL failure {}", log_id(), sasl::failure_name(f));
  send(failure_xml(sasl_profile_, f));
  if (++sasl_failures_ >= ctx_.config.sasl_max_attempts) {
    // RFC 6120 §6.4.5: a bounded number of retries, then the stream ends.
    fail(StreamCondition::kPolicyViolation, "too many authentication attempts");
  }
}

}  // namespace tern::stream
