// The avatar hash in presence (XEP-0153 §3.2, XEP-0398 §4): the server
// puts the SHA-1 of the account's vCard PHOTO into every available presence
// its resources send, so clients need not fetch their own vCard to say it,
// and sends their presence again when the avatar changes.
//
// The hash is cached per account while it has sessions (PhotoHashes): a
// presence is stamped from memory, never from storage. It is loaded when a
// resource binds, as work the account has in flight, so the first presence
// waits for it; it is refreshed after a vCard set and after a PEP avatar
// publish (which rewrites the vCard PHOTO, sync.cc).
#include "core/log.h"
#include "modules/presence/session_state.h"
#include "modules/pep/avatar.h"
#include "modules/pep/pep.h"

namespace tern::modules::pep {
namespace {

storage::AccountKey key_of(const std::string& bare) {
  auto at = bare.find('@');
  return {bare.substr(0, at), bare.substr(at + 1)};
}

// The hash of the account's stored vCard PHOTO. On the blocking pool.
std::optional<std::string> stored_photo_hash(storage::Storage& s, const std::string& account) {
  auto text = s.documents().get(key_of(account), avatar::kVcardKey);
  if (!text) return std::nullopt;
  return avatar::vcard_photo_hash(*text);
}

// The account's stored photo hash (inner nullopt: no avatar), read on the
// blocking pool; outer nullopt when storage failed (logged).
awaitable<std::optional<std::optional<std::string>>> read_hash(std::shared_ptr<PepService> self,
                                                               std::string account) {
  auto& store = self->storage();
  auto op = self->blocking().run([&] { return stored_photo_hash(store, account); });
  try {
    co_return co_await std::move(op);
  } catch (const std::exception& e) {
    spdlog::error("pep: reading the photo hash of {} failed: {}", account, e.what());
    co_return std::nullopt;
  }
}

awaitable<void> load_hash(std::shared_ptr<PepService> self, std::string account) {
  if (self->photo_hashes().find(account)) co_return;
  // On failure presence goes out as the client wrote it; the next login retries.
  auto read = read_hash(self, account);
  auto loaded = co_await std::move(read);
  if (!loaded) co_return;
  auto hash = std::move(*loaded);
  // Not for an account whose last session ended meanwhile: nothing would
  // drop the entry.
  auto jid = xmpp::Jid::parse(account);
  if (jid && !self->host().sessions().sessions_of(*jid).empty())
    self->photo_hashes().set(account, std::move(hash));
}

}  // namespace

std::optional<std::optional<std::string>> PhotoHashes::find(const std::string& account) const {
  std::lock_guard lock(mutex_);
  auto it = hashes_.find(account);
  if (it == hashes_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::optional<std::string>> PhotoHashes::set(const std::string& account,
                                                           std::optional<std::string> hash) {
  std::lock_guard lock(mutex_);
  auto [it, inserted] = hashes_.try_emplace(account, hash);
  if (inserted) return std::nullopt;
  return std::exchange(it->second, std::move(hash));
}

void PhotoHashes::forget(const std::string& account) {
  std::lock_guard lock(mutex_);
  hashes_.erase(account);
}

void PepService::stamp_photo_hash(const xmpp::Jid& from, xml::Element& presence) {
  if (presence.name() != "presence" || presence.attr("type")) return;
  if (!from.is_full() || !from.has_node() || !host_.is_local_domain(from.domain())) return;
  auto hash = photo_hashes_.find(from.bare_string());
  if (!hash) return;  // not loaded (yet): the presence goes as written
  avatar::apply_photo_hash(presence, *hash);
}

void PepService::load_photo_hash(const xmpp::Jid& account) {
  std::string bare = account.bare_string();
  if (photo_hashes_.find(bare)) return;
  host_.queue_next(bare, [self = shared_from_this(), bare] { return load_hash(self, bare); });
}

awaitable<void> photo_may_have_changed(std::shared_ptr<PepService> self, std::string account) {
  auto jid = xmpp::Jid::parse(account);
  if (!jid || !self->options().with_vcard) co_return;
  auto read = read_hash(self, account);
  auto loaded = co_await std::move(read);
  if (!loaded) co_return;
  auto hash = std::move(*loaded);
  const auto sessions = self->host().sessions().sessions_of(*jid);
  if (sessions.empty()) co_return;
  auto before = self->photo_hashes().set(account, hash);
  if (before && *before == hash) co_return;
  // XEP-0153 §4.1: a new avatar is announced with a new presence. Each
  // resource's last broadcast presence goes out again (from its own shard,
  // as if the client had sent it), stamped with the new hash; the hash the
  // server put there before is replaced or, when the avatar is gone,
  // emptied.
  std::optional<std::string> stale = before ? *before : std::nullopt;
  Host host = self->host();
  for (const auto& s : sessions) {
    host.on_shard_of(s, [host, hash, stale](router::Session& c) {
      const auto* state = c.module_state().find<presence::SessionPresence>();
      auto last = state && c.is_available() ? state->last_presence() : std::nullopt;
      if (!last) return;
      xml::Element p = std::move(*last);
      p.remove_attr("to");
      p.set_attr("from", c.jid().to_string());
      avatar::apply_photo_hash(p, hash, stale);
      host.route(std::move(p));
    });
  }
}

}  // namespace tern::modules::pep
