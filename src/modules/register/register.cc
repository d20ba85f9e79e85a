// XEP-0077 in-band registration (off unless enabled).
//
// Before authentication (IqTarget::kUnauthenticated) a client asks for the
// fields and creates an account on the stream's domain. Once authenticated,
// the account asks whether it is registered, changes its password, or
// cancels its registration, which deletes the account and all its data and
// closes all its sessions with a <not-authorized/> stream error (§3.2).
//
// Throttling: account creations are counted per client address over a
// sliding hour (modules.register.per_ip_per_hour); each attempt that
// reaches the store counts, a conflict included, so the limit also bounds
// the PBKDF2 work one address can cause. Over the limit the answer is
// <not-acceptable/>, the condition XEP-0077 §3.1.1 names for "an
// unregistered entity attempts to register too many times", with type
// 'wait' (RFC 6120 §8.3.2 lets the type differ from the condition's usual
// one) so that a client knows retrying later can succeed.
#include "modules/register/register.h"

#include <chrono>

#include "core/log.h"
#include "modules/options.h"
#include "modules/register/query.h"
#include "modules/register/throttle.h"
#include "modules/roster/account_removal.h"

namespace tern::modules {
namespace {

using namespace reg;
using router::IqReply;
using router::IqRequest;
using router::IqTarget;
using router::IqType;
using xmpp::ErrorType;
using xmpp::StanzaCondition;
using xmpp::StanzaError;

struct RegisterOptions {
  bool enabled = false;
  std::int64_t per_ip_per_hour = 5;  // 0: no limit
  // XEP-0077 §11: a password sent in the clear is a password given away, so
  // registration needs TLS unless the operator says otherwise (a test rig).
  bool allow_unencrypted = false;
};
constexpr OptionField<RegisterOptions> kRegisterOptions[] = {
    option("enabled", &RegisterOptions::enabled,
           "Let clients create accounts themselves (XEP-0077 in-band registration); off: only "
           "`tern user add`, XEP-0133 or an import create them"),
    option("per_ip_per_hour", &RegisterOptions::per_ip_per_hour, 0, 1'000'000,
           "Account creations one client address may attempt per hour; 0: no limit"),
    option("allow_unencrypted", &RegisterOptions::allow_unencrypted,
           "Offer registration on streams without TLS too (a test rig: the password travels in the clear)"),
};

struct Registrar {
  Registrar(Host host, storage::Storage& storage, core::BlockingPool& blocking,
            std::size_t per_hour)
      : host(host), storage(storage), blocking(blocking),
        throttle(per_hour, std::chrono::hours(1)) {}

  Host host;
  storage::Storage& storage;
  core::BlockingPool& blocking;
  RegistrationThrottle throttle;
  bool allow_unencrypted = false;
};

// What a store call did; storage errors become kFailed here, on the
// blocking pool, so no exception crosses a co_await.
enum class StoreResult { kDone, kNotDone, kFailed };

StoreResult create_account(storage::Storage& storage, const storage::AccountKey& key,
                           const std::string& password) {
  try {
    return storage.accounts().create(key, password) ? StoreResult::kDone : StoreResult::kNotDone;
  } catch (const std::exception& e) {
    spdlog::error("register: creating {}@{} failed: {}", key.user, key.domain, e.what());
    return StoreResult::kFailed;
  }
}

StoreResult change_password(storage::Storage& storage, const storage::AccountKey& key,
                            const std::string& password) {
  try {
    return storage.accounts().set_password(key, password) ? StoreResult::kDone
                                                          : StoreResult::kNotDone;
  } catch (const std::exception& e) {
    spdlog::error("register: new password for {}@{} failed: {}", key.user, key.domain, e.what());
    return StoreResult::kFailed;
  }
}

// An authenticated request concerns the sender's own account: sent with no
// 'to', to its own bare JID, or to its server's domain.
bool is_about_own_account(const IqRequest& req) {
  if (req.to.has_node()) return req.to == req.from.bare();
  return req.to.domain() == req.from.domain();
}

awaitable<IqReply> register_new_account(std::shared_ptr<Registrar> r, const IqRequest& req) {
  if (!req.confidential && !r->allow_unencrypted) {
    co_return StanzaError(StanzaCondition::kPolicyViolation,
                          "registration needs an encrypted stream: use STARTTLS first");
  }
  const auto query = parse_query(req.payload());
  auto checked = check_registration(query);
  if (const auto* err = std::get_if<StanzaError>(&checked)) co_return *err;
  const auto& account = std::get<NewAccount>(checked);
  if (!r->throttle.try_acquire(req.remote_ip, RegistrationThrottle::Clock::now())) {
    spdlog::info("register: refusing a registration from {}: over modules.register.per_ip_per_hour",
                 req.remote_ip);
    co_return StanzaError(StanzaCondition::kNotAcceptable, ErrorType::kWait,
                          "too many registrations from your address; try again later");
  }
  const storage::AccountKey key{account.localpart, req.to.domain()};
  const auto result = co_await r->blocking.run(
      [&] { return create_account(r->storage, key, account.password); });
  if (result == StoreResult::kFailed) {
    r->throttle.refund(req.remote_ip);
    co_return StanzaError(StanzaCondition::kInternalServerError);
  }
  if (result == StoreResult::kNotDone) {
    co_return StanzaError(StanzaCondition::kConflict, "this username is taken");
  }
  spdlog::info("register: account {}@{} created in-band from {}", key.user, key.domain,
               req.remote_ip);
  co_return IqReply::result();
}

awaitable<IqReply> update_own_account(std::shared_ptr<Registrar> r, const IqRequest& req) {
  if (!is_about_own_account(req)) {
    co_return StanzaError(StanzaCondition::kForbidden, "you can manage your own account only");
  }
  const xmpp::Jid own = req.from.bare();
  const storage::AccountKey key{own.node(), own.domain()};
  const auto query = parse_query(req.payload());
  if (query.remove) {
    // XEP-0077 §3.2: <remove/> must be the only child.
    if (!query.remove_alone) {
      co_return StanzaError(StanzaCondition::kBadRequest, "<remove/> must be the only child");
    }
    auto removal = roster::remove_account(r->host, r->storage, r->blocking, own, "account removed");
    const auto result = co_await std::move(removal);
    if (result == roster::AccountRemoval::kFailed) {
      co_return StanzaError(StanzaCondition::kInternalServerError);
    }
    if (result == roster::AccountRemoval::kNoSuchAccount) {
      co_return StanzaError(StanzaCondition::kRegistrationRequired);
    }
    spdlog::info("register: account {} removed in-band", own.bare_string());
    co_return IqReply::result();
  }
  auto checked = check_password_change(query, own.node(), own.domain());
  if (const auto* err = std::get_if<StanzaError>(&checked)) co_return *err;
  const auto& password = std::get<std::string>(checked);
  const auto result =
      co_await r->blocking.run([&] { return change_password(r->storage, key, password); });
  if (result == StoreResult::kFailed) co_return StanzaError(StanzaCondition::kInternalServerError);
  if (result == StoreResult::kNotDone) co_return StanzaError(StanzaCondition::kRegistrationRequired);
  spdlog::info("register: {} changed its password in-band", own.bare_string());
  co_return IqReply::result();
}

IqReply describe_own_account(const IqRequest& req) {
  if (!is_about_own_account(req)) {
    return StanzaError(StanzaCondition::kForbidden, "you can manage your own account only");
  }
  return registered_form(req.from.node());
}

}  // namespace

std::unique_ptr<Module> start_register(ModuleContext& ctx) {
  auto m = std::make_unique<Module>();
  const auto opts = read_options("register", ctx.options, kRegisterOptions);
  // Disabled: nothing registered, so the server answers service-unavailable
  // (XEP-0077 §3.1) and offers no stream feature.
  if (!opts.enabled) return m;

  auto r = std::make_shared<Registrar>(ctx.host, ctx.storage, ctx.blocking,
                                       static_cast<std::size_t>(opts.per_ip_per_hour));
  r->allow_unencrypted = opts.allow_unencrypted;
  // The namespace is advertised once below, beside the stream feature.
  const auto service = [](IqTarget target, IqType type) {
    return IqService{target, type, kRegisterNs, "query"};
  };
  m->tokens.push_back(ctx.serve_iq_sync(service(IqTarget::kUnauthenticated, IqType::kGet),
                                        [](const IqRequest&) { return IqReply(registration_form()); }));
  m->tokens.push_back(ctx.serve_iq(service(IqTarget::kUnauthenticated, IqType::kSet),
                                   [r](const IqRequest& req) { return register_new_account(r, req); }));
  for (auto target : {IqTarget::kAccount, IqTarget::kServer}) {
    m->tokens.push_back(ctx.serve_iq_sync(service(target, IqType::kGet), &describe_own_account));
    m->tokens.push_back(ctx.serve_iq(service(target, IqType::kSet),
                                     [r](const IqRequest& req) { return update_own_account(r, req); }));
  }
  auto& offered = opts.allow_unencrypted ? ctx.features.pre_auth_plain_stream_features
                                         : ctx.features.pre_auth_stream_features;
  offered.push_back(std::string("<register xmlns='") + kRegisterFeature + "'/>");
  ctx.features.disco_features.push_back(kRegisterNs);
  return m;
}

TERN_MODULE("register", "XEP-0077 in-band registration (off unless enabled)", &start_register, 50,
            kRegisterOptions);

}  // namespace tern::modules
