#include "modules/module.h"

#include <algorithm>
#include <atomic>

#include <boost/asio/steady_timer.hpp>

#include "router/close_sessions.h"
#include "router/router.h"

namespace tern::modules {
namespace {

using xmpp::StanzaCondition;
using xmpp::StanzaError;

std::vector<ModuleInfo>& registry() {
  static std::vector<ModuleInfo> modules;
  return modules;
}

// `payload` lists the child names a service accepts, '|' between them
// (carbons' <enable/> and <disable/> share one namespace); empty accepts any.
bool has_payload(const router::IqRequest& req, std::string_view payload) {
  if (payload.empty()) return true;
  const std::string_view name = req.payload().name();
  while (!payload.empty()) {
    const auto bar = payload.find('|');
    if (payload.substr(0, bar) == name) return true;
    payload = bar == std::string_view::npos ? std::string_view() : payload.substr(bar + 1);
  }
  return false;
}

// A coroutine of its own, not a capturing coroutine lambda: the frame owns
// the handler it calls.
awaitable<router::IqReply> answer_checked(std::string payload, router::IqHandler handler,
                                          const router::IqRequest& req) {
  if (!has_payload(req, payload)) co_return StanzaError(StanzaCondition::kBadRequest);
  co_return co_await handler(req);
}

}  // namespace

ModuleRegistrar::ModuleRegistrar(ModuleInfo info) {
  auto& modules = registry();
  // Stable by rank; equal ranks start by name, so the order never depends
  // on the link order of the object files.
  auto at = std::find_if(modules.begin(), modules.end(), [&](const ModuleInfo& m) {
    return m.rank > info.rank || (m.rank == info.rank && std::string_view(m.name) > info.name);
  });
  modules.insert(at, info);
}

const std::vector<ModuleInfo>& builtin_modules() { return registry(); }

std::vector<core::ModuleOptionDocs> builtin_option_docs() {
  std::vector<core::ModuleOptionDocs> out;
  for (const ModuleInfo& info : registry()) {
    if (info.options != nullptr) out.push_back({info.name, info.options(info.name, {})});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.module < b.module; });
  return out;
}

core::HookToken ModuleContext::serve_iq(const IqService& service, router::IqHandler handler) {
  advertise(service);
  return router_.iq().add(service.target, service.type, std::string(service.ns),
                          [payload = std::string(service.payload),
                           handler = std::move(handler)](const router::IqRequest& req) {
                            return answer_checked(payload, handler, req);
                          });
}

core::HookToken ModuleContext::serve_iq_sync(const IqService& service,
                                             router::SyncIqHandler handler) {
  advertise(service);
  return router_.iq().add_sync(
      service.target, service.type, std::string(service.ns),
      [payload = std::string(service.payload),
       handler = std::move(handler)](const router::IqRequest& req) -> router::IqReply {
        if (!has_payload(req, payload)) return StanzaError(StanzaCondition::kBadRequest);
        return handler(req);
      });
}

core::HookToken ModuleContext::serve_domain(std::string domain, router::DomainHandler handler) {
  return router_.claim_domain(std::move(domain), std::move(handler));
}

const router::IqHandler* ModuleContext::iq_handler(router::IqTarget target, router::IqType type,
                                                   const std::string& ns) const {
  return router_.iq().find(target, type, ns);
}

router::RouterHooks& ModuleContext::hooks() { return router_.hooks(); }

void ModuleContext::advertise(const IqService& service) {
  // disco lists each feature once, however many handlers share it.
  if (service.advertise == Advertise::kOnServer)
    features.disco_features.emplace_back(service.ns);
  else if (service.advertise == Advertise::kOnAccount)
    features.account_features.emplace_back(service.ns);
}

namespace {

// A periodic timer on one shard. The pending wait owns the ticker; the
// token only marks it stopped (the timer belongs to its shard's thread), and
// the loop's end frees it.
struct Ticker : std::enable_shared_from_this<Ticker> {
  Ticker(asio::any_io_executor exec, std::chrono::seconds p, std::function<void()> f)
      : timer(std::move(exec)), period(p), tick(std::move(f)) {}
  void schedule() {
    timer.expires_after(period);
    timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec || self->stopped.load()) return;
      self->tick();
      self->schedule();
    });
  }
  asio::steady_timer timer;
  std::chrono::seconds period;
  std::function<void()> tick;
  std::atomic<bool> stopped{false};
};

}  // namespace

void Host::route(xml::Element stanza) const { router_->route(std::move(stanza)); }

void Host::bounce(const xml::Element& stanza, const xmpp::StanzaError& err) const {
  router_->bounce(stanza, err);
}

void Host::route_to_bare(xml::Element stanza, const xmpp::Jid& from, const xmpp::Jid& to) const {
  router_->route_to_bare(std::move(stanza), from, to);
}

void Host::deliver(const router::SessionPtr& session, xml::Element stanza) const {
  router_->deliver(session, std::move(stanza));
}

void Host::deliver_to_all(const std::vector<router::SessionPtr>& sessions,
                          const xml::Element& stanza) const {
  router_->deliver_to_all(sessions, stanza);
}

void Host::on_shard_of(const router::SessionPtr& session,
                       std::function<void(router::Session&)> f) const {
  router_->on_shard_of(session, std::move(f));
}

awaitable<void> Host::visit_shard_of(router::SessionPtr session,
                                     std::function<void(router::Session&)> f) const {
  return router_->visit_shard_of(std::move(session), std::move(f));
}

void Host::spawn(awaitable<void> work) const { router_->spawn(std::move(work)); }

void Host::route_copies(const xml::Element& stanza, std::span<const xmpp::Jid> recipients) const {
  router_->route_copies(stanza, recipients);
}

void Host::post_to_shard(unsigned shard, std::function<void()> f) const {
  router_->post_to_shard(shard, std::move(f));
}

void Host::queue_next(std::string_view key, core::SerialQueue::Task task) const {
  router_->serial().push_next(key, std::move(task));
}

void Host::queue_last(std::string_view key, core::SerialQueue::Task task) const {
  router_->serial().push_back(key, std::move(task));
}

void Host::close_sessions_after_reply(asio::any_io_executor exec, xmpp::Jid bare,
                                      xmpp::StreamCondition condition, std::string text) const {
  router::close_account_sessions_after_reply(std::move(exec), *router_, std::move(bare), condition,
                                             std::move(text));
}

const router::SessionRegistry& Host::sessions() const { return router_->sessions(); }

std::vector<router::SessionPtr> Host::best_sessions(const xmpp::Jid& bare) const {
  return router_->best_sessions(bare);
}

bool Host::is_local_domain(const std::string& domain) const {
  return router_->is_local_domain(domain);
}

const std::set<std::string>& Host::domains() const { return router_->domains(); }

unsigned Host::shard_count() const { return router_->shard_count(); }

core::HookToken Host::every(std::chrono::seconds period, std::function<void()> tick) const {
  auto exec = router_->shard_executor(0);
  auto ticker = std::make_shared<Ticker>(exec, period, std::move(tick));
  asio::post(exec, [ticker] { ticker->schedule(); });
  return core::HookToken([ticker] { ticker->stopped.store(true); });
}

}  // namespace tern::modules
