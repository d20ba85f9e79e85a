#include "modules/mam/mam.h"

#include <shared_mutex>
#include <unordered_map>

#include "core/log.h"
#include "modules/mam/archive_id.h"
#include "modules/mam/policy.h"
#include "modules/mam/query.h"
#include "modules/mam/shared_archive.h"
#include "modules/mam/writer.h"
#include "modules/options.h"
#include "xmpp/namespaces.h"
#include "xml/parse_element.h"
#include "xml/serializer.h"
#include "xmpp/datetime.h"

namespace tern::modules {
namespace {

using namespace mam;
using router::IqReply;
using router::IqRequest;
using xmpp::StanzaCondition;
using xmpp::StanzaError;

struct MamOptions {
  std::string default_mode = "always";
  std::int64_t retention_days = 0;
  std::size_t max_page = 250;
  bool count = true;
};
constexpr OptionField<MamOptions> kMamOptions[] = {
    choice("default", &MamOptions::default_mode, "always|never|roster",
           "Whose messages an account's archive keeps unless its prefs say otherwise: "
           "\"always\", \"never\" or \"roster\" (contacts only)"),
    // 100 years: further back than that the clock (int64 nanoseconds) cannot go.
    option("retention_days", &MamOptions::retention_days, 0, 36500,
           "Days archived messages are kept (0: forever); older ones are purged hourly"),
    option("max_page", &MamOptions::max_page, 1, 10000,
           "Most messages one archive query returns (a larger RSM <max> is clamped)"),
    option("count", &MamOptions::count,
           "Archive query results tell the RSM <count> of the whole result set"),
};

// Past this many rows waiting, a message to archive waits (as a step of its
// sender's lane, so the sender's later stanzas wait too) until the queue
// has been written: senders slow down to what the disk takes instead of
// rows being dropped. About half a second of writes on a small machine.
// A held message is work in flight of its sender's lane: SIGTERM waits for
// it (counted router work); kill -9 loses it undelivered, like any stanza
// read and not yet routed; with a full disk the flush fails, is logged, and
// the message goes on (its rows are dropped by the writer).
constexpr std::size_t kBackPressureRows = 20000;
// Retention: rows per delete, and how often the purge runs.
constexpr std::size_t kPurgeBatchRows = 1000;
constexpr std::chrono::seconds kPurgePeriod{3600};

// Every account's prefs, read at start (few accounts change them) and kept
// up to date by the prefs iq; read by every shard on every message.
class PrefsCache {
 public:
  void load(std::vector<std::pair<std::string, storage::ArchivePrefs>> all) {
    std::unique_lock lock(mutex_);
    for (auto& [owner, prefs] : all) by_owner_[owner] = std::move(prefs);
  }
  std::optional<storage::ArchivePrefs> get(const std::string& owner) const {
    std::shared_lock lock(mutex_);
    auto it = by_owner_.find(owner);
    if (it == by_owner_.end()) return std::nullopt;
    return it->second;
  }
  void set(const std::string& owner, storage::ArchivePrefs prefs) {
    std::unique_lock lock(mutex_);
    by_owner_[owner] = std::move(prefs);
  }
  void erase(const std::string& owner) {
    std::unique_lock lock(mutex_);
    by_owner_.erase(owner);
  }
  bool empty() const {
    std::shared_lock lock(mutex_);
    return by_owner_.empty();
  }

 private:
  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, storage::ArchivePrefs> by_owner_;
};

// Who keeps a message, as decided before it goes on.
struct Keepers {
  Decision sender = Decision::kSkip;
  Decision recipient = Decision::kSkip;
};

// Between the archive's two pre_route handlers (before and after carbons)
// on this thread: the stanza-ids still to change on the stanza in flight.
struct PendingIds {
  const xml::Element* stanza = nullptr;
  std::string remove_by;              // the sender's id: for its carbons only
  std::string add_by, add_id;         // the recipient's id
};
thread_local PendingIds t_pending;
// Set while the module routes a message again after reading rosters: the
// decision made for it.
thread_local const Keepers* t_decided = nullptr;

bool in_roster(const std::optional<storage::RosterItem>& item) {
  // A stored subscription request alone does not put a contact on the roster.
  return item && (item->subscription != "none" || item->ask_out || !item->pending_in);
}

struct MamModule : Module {
  MamModule(ModuleContext& ctx, MamOptions o, std::shared_ptr<SharedArchive> shared)
      : host(ctx.host), storage(ctx.storage), blocking(ctx.blocking), options(std::move(o)),
        archive_(std::move(shared)), ids(archive_->ids), writer(archive_->writer) {}

  Host host;
  storage::Storage& storage;
  core::BlockingPool& blocking;
  MamOptions options;
  std::shared_ptr<SharedArchive> archive_;  // shared with room archives (muc)
  IdSource& ids;
  PrefsCache prefs;
  std::shared_ptr<ArchiveWriter>& writer;

  bool is_local_account(const xmpp::Jid& j) const {
    return j.has_node() && host.is_local_domain(j.domain());
  }

  storage::ArchivePrefs prefs_of(const std::string& owner) const {
    if (auto p = prefs.get(owner)) return *p;
    return storage::ArchivePrefs{options.default_mode, {}, {}};
  }

  core::Verdict before_carbons(router::RoutedStanza& ev);
  core::Verdict after_carbons(router::RoutedStanza& ev);
  void archive(router::RoutedStanza& ev, Keepers keepers);
  static awaitable<void> decide_by_roster(MamModule* m, xml::Element stanza, xmpp::Jid from,
                                          xmpp::Jid to, Keepers keepers);
  static awaitable<void> wait_for_writer(MamModule* m, xml::Element stanza, Keepers keepers);
  // Routes a message again from the start, with its archiving decided.
  void route_decided(xml::Element stanza, const Keepers& keepers);

  awaitable<IqReply> on_set(const IqRequest& req);
  awaitable<IqReply> on_get(const IqRequest& req);
  awaitable<IqReply> run_query(const IqRequest& req, const std::string& owner);
  awaitable<IqReply> set_prefs(const IqRequest& req, const std::string& owner);
  awaitable<IqReply> metadata(const std::string& owner);
  static awaitable<void> purge(MamModule* m);
  static awaitable<void> reload_prefs(MamModule* m, std::string owner);
};

// Storage deletes an account's prefs with the account, but nothing tells
// this cache: a session of an account with cached prefs reads them again,
// so that an account made again under a deleted one's name starts afresh.
awaitable<void> MamModule::reload_prefs(MamModule* m, std::string owner) {
  std::optional<storage::ArchivePrefs> stored;
  try {
    auto job = m->blocking.run([&] { stored = m->storage.archive().prefs(owner); });
    co_await std::move(job);
  } catch (const std::exception& e) {
    spdlog::error("mam: reading the prefs of {} failed: {}", owner, e.what());
    co_return;
  }
  if (stored) {
    m->prefs.set(owner, std::move(*stored));
  } else {
    m->prefs.erase(owner);
  }
}

core::Verdict MamModule::before_carbons(router::RoutedStanza& ev) {
  const Keepers* decided = std::exchange(t_decided, nullptr);
  if (!ev.had_to || ev.stanza.name() != "message") return core::Verdict::kPass;
  const bool sender_local = is_local_account(ev.from);
  const bool recipient_local = is_local_account(ev.to);
  if (!sender_local && !recipient_local) return core::Verdict::kPass;
  // XEP-0359 §3: ids "by" our accounts are ours to give, whatever happens next.
  if (sender_local) remove_stanza_ids(ev.stanza, ev.from.bare_string());
  if (recipient_local) remove_stanza_ids(ev.stanza, ev.to.bare_string());
  if (!is_archivable(ev.stanza)) return core::Verdict::kPass;

  Keepers keepers;
  if (decided) {
    keepers = *decided;
  } else {
    if (sender_local) keepers.sender = decide(prefs_of(ev.from.bare_string()), ev.to);
    if (recipient_local) keepers.recipient = decide(prefs_of(ev.to.bare_string()), ev.from);
  }
  if (keepers.sender == Decision::kIfInRoster || keepers.recipient == Decision::kIfInRoster) {
    // The rosters are in storage: the message waits for them as a step of
    // what its sender has in flight, so the sender's later stanzas stay
    // behind it (RFC 6120 §10.1).
    auto task = [m = this, stanza = ev.stanza, from = ev.from, to = ev.to, keepers] {
      return decide_by_roster(m, stanza, from, to, keepers);
    };
    host.queue_next(ev.from.bare_string(), std::move(task));
    return core::Verdict::kHandled;
  }
  const bool archived = keepers.sender == Decision::kArchive || keepers.recipient == Decision::kArchive;
  if (!decided && archived && writer->backlog() > kBackPressureRows) {
    auto task = [m = this, stanza = ev.stanza, keepers] { return wait_for_writer(m, stanza, keepers); };
    host.queue_next(ev.from.bare_string(), std::move(task));
    return core::Verdict::kHandled;
  }
  archive(ev, keepers);
  return core::Verdict::kPass;
}

void MamModule::route_decided(xml::Element stanza, const Keepers& keepers) {
  // From the start: blocking may have changed its mind meanwhile, and
  // carbons have not seen the message yet.
  t_decided = &keepers;
  host.route(std::move(stanza));
  t_decided = nullptr;
}

awaitable<void> MamModule::wait_for_writer(MamModule* m, xml::Element stanza, Keepers keepers) {
  // Messages held while the queue was long come here one after another;
  // once it is short again they go on without a trip to the pool.
  if (m->writer->backlog() <= kBackPressureRows / 2) {
    m->route_decided(std::move(stanza), keepers);
    co_return;
  }
  try {
    auto job = m->blocking.run([&] { m->writer->flush_now(); });
    co_await std::move(job);
  } catch (const std::exception& e) {
    spdlog::error("mam: waiting for the archive writer failed: {}", e.what());
  }
  m->route_decided(std::move(stanza), keepers);
}

awaitable<void> MamModule::decide_by_roster(MamModule* m, xml::Element stanza, xmpp::Jid from,
                                            xmpp::Jid to, Keepers keepers) {
  auto in_roster_of = [m](const xmpp::Jid& owner, const xmpp::Jid& peer) {
    return in_roster(m->storage.roster().item({owner.node(), owner.domain()}, peer.bare_string()));
  };
  try {
    auto job = m->blocking.run([&] {
      if (keepers.sender == Decision::kIfInRoster)
        keepers.sender = in_roster_of(from, to) ? Decision::kArchive : Decision::kSkip;
      if (keepers.recipient == Decision::kIfInRoster)
        keepers.recipient = in_roster_of(to, from) ? Decision::kArchive : Decision::kSkip;
    });
    co_await std::move(job);
  } catch (const std::exception& e) {
    spdlog::error("mam: reading the roster for {} -> {} failed: {}", from.to_string(),
                  to.to_string(), e.what());
    keepers.sender = keepers.recipient = Decision::kSkip;
  }
  spdlog::debug("mam: roster read for {} -> {}: sender {}, recipient {}", from.to_string(),
                to.to_string(), static_cast<int>(keepers.sender), static_cast<int>(keepers.recipient));
  m->route_decided(std::move(stanza), keepers);
}

void MamModule::archive(router::RoutedStanza& ev, Keepers keepers) {
  const bool by_sender = keepers.sender == Decision::kArchive;
  const bool by_recipient = keepers.recipient == Decision::kArchive;
  if (!by_sender && !by_recipient) return;
  const auto now = std::chrono::system_clock::now();
  const std::string sender = ev.from.bare_string();
  const std::string recipient = ev.to.bare_string();
  const std::string text = xml::to_string(ev.stanza, ns::kClient);
  std::vector<storage::ArchiveRow> rows;
  std::int64_t sender_id = 0, recipient_id = 0;
  if (by_sender) {
    sender_id = ids.next(now);
    rows.push_back({sender, sender_id, recipient, ev.to.resource(), text});
  }
  // A message to oneself is one row, under the one id both copies carry.
  if (by_recipient && !(by_sender && sender == recipient)) {
    recipient_id = ids.next(now);
    rows.push_back({recipient, recipient_id, sender, ev.from.resource(), text});
  }
  writer->push(std::move(rows));
  // The sender's id goes with the stanza as far as its carbons (so that
  // the sender's other clients learn the id of the row they will find in
  // the archive), and off it after them; the recipient's id is added then.
  t_pending = PendingIds{};
  if (by_sender) add_stanza_id(ev.stanza, sender, encode_id(sender_id));
  if (recipient_id != 0 || by_sender) {
    t_pending.stanza = &ev.stanza;
    if (by_sender && sender != recipient) t_pending.remove_by = sender;
    if (recipient_id != 0) {
      t_pending.add_by = recipient;
      t_pending.add_id = encode_id(recipient_id);
    }
  }
}

core::Verdict MamModule::after_carbons(router::RoutedStanza& ev) {
  if (t_pending.stanza != &ev.stanza) return core::Verdict::kPass;
  PendingIds pending = std::exchange(t_pending, PendingIds{});
  if (!pending.remove_by.empty()) remove_stanza_ids(ev.stanza, pending.remove_by);
  if (!pending.add_by.empty()) add_stanza_id(ev.stanza, pending.add_by, pending.add_id);
  return core::Verdict::kPass;
}

// iq set: a query (§4) or new prefs (§6). Only one's own archive.
awaitable<IqReply> MamModule::on_set(const IqRequest& req) {
  const std::string owner = req.from.bare_string();
  if (req.to.has_node() && req.to.bare_string() != owner) co_return StanzaError(StanzaCondition::kForbidden);
  const auto& payload = req.payload();
  if (payload.name() == "query") co_return co_await run_query(req, owner);
  if (payload.name() == "prefs") co_return co_await set_prefs(req, owner);
  co_return StanzaError(StanzaCondition::kBadRequest);
}

// iq get: the query form (§4.1.4), the prefs (§6) or the metadata (§5).
awaitable<IqReply> MamModule::on_get(const IqRequest& req) {
  const std::string owner = req.from.bare_string();
  if (req.to.has_node() && req.to.bare_string() != owner) co_return StanzaError(StanzaCondition::kForbidden);
  const auto& payload = req.payload();
  if (payload.name() == "query") co_return IqReply::result(query_form());
  if (payload.name() == "prefs") {
    // From storage, which is the truth; the cache follows.
    auto reload = reload_prefs(this, owner);  // GCC 12: no by-value argument inside co_await
    co_await std::move(reload);
    co_return IqReply::result(prefs_element(prefs_of(owner)));
  }
  if (payload.name() == "metadata") co_return co_await metadata(owner);
  co_return StanzaError(StanzaCondition::kBadRequest);
}

awaitable<IqReply> MamModule::run_query(const IqRequest& req, const std::string& owner) {
  auto parsed = parse_query(req.payload());
  if (auto* err = std::get_if<StanzaError>(&parsed)) co_return *err;
  const auto& request = std::get<ArchiveRequest>(parsed);
  if (request.ids.size() > options.max_page)
    co_return StanzaError(StanzaCondition::kPolicyViolation,
                          "at most " + std::to_string(options.max_page) + " ids per query");
  const std::size_t page_size = std::min(request.max.value_or(options.max_page), options.max_page);
  storage::ArchiveQuery q = to_storage_query(request, page_size);
  // RSM <count> is the size of the whole result set, wherever the page is:
  // the same query without the RSM bounds.
  std::optional<storage::ArchiveQuery> count_query;
  if (options.count) {
    ArchiveRequest whole = request;
    whole.rsm_after.reset();
    whole.rsm_before.reset();
    count_query = to_storage_query(whole, 0);
    count_query->with_count = true;
  }
  const std::vector<std::int64_t> named = request.named_ids();
  bool unknown_id = false;
  storage::ArchivePage page;
  try {
    auto job = blocking.run([&] {
      // Read what was archived before the query came.
      writer->flush_now();
      for (auto id : named) {
        if (!storage.archive().contains(owner, id)) {
          unknown_id = true;
          return;
        }
      }
      page = storage.archive().query(owner, q);
      if (count_query) page.count = storage.archive().query(owner, *count_query).count;
    });
    co_await std::move(job);
  } catch (const std::exception& e) {
    spdlog::error("mam: query of {} failed: {}", owner, e.what());
    co_return StanzaError(StanzaCondition::kInternalServerError);
  }
  if (unknown_id) co_return StanzaError(StanzaCondition::kItemNotFound);

  // The results go straight to the asking session, ahead of the iq result
  // the router sends after this returns.
  if (auto session = host.sessions().find(req.from)) {
    auto send = [&](const storage::ArchiveRow& row) {
      auto original = xml::parse_element(row.stanza, ns::kClient);
      if (!original) {
        spdlog::error("mam: archived row {} of {} does not parse; skipped", row.id, owner);
        return;
      }
      host.deliver(session, result_message(row, std::move(*original), request.queryid, req.from));
    };
    if (request.flip_page) {
      for (auto it = page.rows.rbegin(); it != page.rows.rend(); ++it) send(*it);
    } else {
      for (const auto& row : page.rows) send(row);
    }
  }

  xml::Element fin("fin", std::string(kNs));
  if (page.complete) fin.set_attr("complete", "true");
  auto& set = fin.add_child("set", std::string(kRsmNs));
  // RSM: first and last of the page in archive order, whatever the order
  // of transmission (<flip-page/> changes only that).
  if (!page.rows.empty()) {
    set.add_child("first").add_text(encode_id(page.rows.front().id));
    set.add_child("last").add_text(encode_id(page.rows.back().id));
  }
  if (page.count) set.add_child("count").add_text(std::to_string(*page.count));
  co_return IqReply::result(std::move(fin));
}

awaitable<IqReply> MamModule::set_prefs(const IqRequest& req, const std::string& owner) {
  auto parsed = parse_prefs(req.payload());
  if (auto* err = std::get_if<StanzaError>(&parsed)) co_return *err;
  auto& new_prefs = std::get<storage::ArchivePrefs>(parsed);
  try {
    auto job = blocking.run([&] { storage.archive().set_prefs(owner, new_prefs); });
    co_await std::move(job);
  } catch (const std::exception& e) {
    spdlog::error("mam: storing the prefs of {} failed: {}", owner, e.what());
    co_return StanzaError(StanzaCondition::kInternalServerError);
  }
  prefs.set(owner, new_prefs);
  co_return IqReply::result(prefs_element(new_prefs));
}

awaitable<IqReply> MamModule::metadata(const std::string& owner) {
  std::optional<xml::Element> el;
  try {
    auto job = blocking.run([&] { el = read_metadata(storage.archive(), *writer, owner); });
    co_await std::move(job);
  } catch (const std::exception& e) {
    spdlog::error("mam: metadata of {} failed: {}", owner, e.what());
    co_return StanzaError(StanzaCondition::kInternalServerError);
  }
  co_return IqReply::result(std::move(*el));
}

// Retention: rows older than retention_days go, a bounded batch per storage
// job so that the pool keeps serving queries in between.
awaitable<void> MamModule::purge(MamModule* m) {
  const auto cutoff = std::chrono::system_clock::now() - std::chrono::hours(24 * m->options.retention_days);
  const std::int64_t below = first_id_at(cutoff);
  std::size_t total = 0;
  try {
    for (;;) {
      std::size_t deleted = 0;
      auto job = m->blocking.run([&] { deleted = m->storage.archive().purge_before(below, kPurgeBatchRows); });
      co_await std::move(job);
      total += deleted;
      if (deleted < kPurgeBatchRows) break;
    }
  } catch (const std::exception& e) {
    spdlog::error("mam: retention purge failed after {} rows: {}", total, e.what());
    co_return;
  }
  if (total > 0) spdlog::info("mam: retention purged {} archived messages", total);
}

}  // namespace

std::unique_ptr<Module> start_mam(ModuleContext& ctx) {
  using router::IqTarget, router::IqType;
  MamOptions options = read_options("mam", ctx.options, kMamOptions);
  // At start, before any message: ids continue above what is stored.
  auto m = std::make_unique<MamModule>(ctx, std::move(options), shared_archive(ctx));
  m->prefs.load(ctx.storage.archive().all_prefs());
  auto* mm = m.get();

  m->tokens.push_back(ctx.serve_iq(
      {IqTarget::kAccount, IqType::kSet, kNs, "query|prefs", Advertise::kOnAccount},
      [mm](const IqRequest& req) { return mm->on_set(req); }));
  m->tokens.push_back(ctx.serve_iq({IqTarget::kAccount, IqType::kGet, kNs, "query|prefs|metadata"},
                                   [mm](const IqRequest& req) { return mm->on_get(req); }));
  ctx.features.account_features.emplace_back(kExtendedFeature);
  ctx.features.account_features.emplace_back(kStanzaIdNs);

  // After blocking (100: a refused message is not archived), before carbons
  // (-60: the sender's copies carry the sender's stanza-id); the second
  // handler runs after carbons.
  m->tokens.push_back(ctx.hooks().pre_route.add(
      [mm](router::RoutedStanza& ev) { return mm->before_carbons(ev); }, -50));
  m->tokens.push_back(ctx.hooks().pre_route.add(
      [mm](router::RoutedStanza& ev) { return mm->after_carbons(ev); }, -70));

  m->tokens.push_back(ctx.hooks().session_bound.add([mm](router::SessionEvent& ev) {
    auto owner = ev.session.jid().bare_string();
    if (mm->prefs.get(owner)) mm->host.spawn(MamModule::reload_prefs(mm, std::move(owner)));
    return core::Verdict::kPass;
  }));

  // XEP-0386 (Bind 2): <bound/> carries the archive's metadata, so the
  // client knows where to resume catching up without another round trip.
  ctx.features.inline_bind.push_back(
      {"", [mm](router::Session& session, const xml::Element&, xml::Element& bound) -> awaitable<void> {
         auto reply = co_await mm->metadata(session.jid().bare_string());
         if (reply.payload) bound.add_child(std::move(*reply.payload));
       }});

  if (mm->options.retention_days > 0) {
    ctx.host.spawn(MamModule::purge(mm));
    m->tokens.push_back(ctx.host.every(kPurgePeriod, [mm] { mm->host.spawn(MamModule::purge(mm)); }));
  }
  return m;
}

TERN_MODULE("mam", "XEP-0313 Message Archive Management (XEP-0059 paging, XEP-0359 stanza ids)",
            &start_mam, 50, kMamOptions);

}  // namespace tern::modules
