// Persistent rooms to MucStore, and the public room directory.
//
// The write queue: each shard keeps its rooms' writes in a queue
// (ShardRooms::writes) that one coroutine drains, one write at a time on
// the blocking pool, so the writes of a room reach the store in the order
// the room made them. A write is the whole room (configuration, subject, vCard,
// affiliations and their nicks), so a later write makes an earlier one moot.
//  - SIGTERM: the draining coroutine is counted work; the server waits for
//    it (bounded by server.shutdown_timeout_seconds) before it stops, so
//    queued writes land.
//  - kill -9: writes still queued are lost; the store keeps the room as of
//    its last write (each write is one transaction, never half a room).
//  - full disk (or any store error): the write is logged and dropped; the
//    room lives on in memory and its next change writes it whole again.
#include <spdlog/spdlog.h>

#include "core/shards.h"
#include "modules/muc/config_form.h"
#include "modules/muc/service.h"
#include "xml/serializer.h"
#include "xmpp/namespaces.h"

namespace tern::modules::muc {

namespace {

storage::MucRoomRecord record_of(const Room& room) {
  storage::MucRoomRecord r;
  r.jid = room.jid().bare_string();
  r.config = stored_config(room.config, room.id_salt());
  r.subject = room.subject;
  r.subject_nick = room.subject_nick;
  for (const auto& [jid, a] : room.affiliations()) r.affiliations.emplace_back(jid, affiliation_name(a));
  for (const auto& [jid, nick] : room.registered_nicks()) r.nicks.emplace_back(jid, nick);
  if (room.avatar) r.vcard = xml::to_string(room.avatar->vcard, ns::kClient);
  return r;
}

}  // namespace

void MucService::save(Room& room) {
  if (!room.config.persistent || room.locked) return;
  queue_write([record = record_of(room)](storage::MucStore& store) { store.put(record); });
}

void MucService::forget(const Room& room) {
  queue_write([jid = room.jid().bare_string()](storage::MucStore& store) { store.remove(jid); });
}

void MucService::queue_write(std::function<void(storage::MucStore&)> write) {
  auto& shard = here();
  shard.writes.push_back(std::move(write));
  if (shard.writing) return;
  shard.writing = true;
  const int current = core::Shards::current();
  host_.spawn(drain_writes(current < 0 ? 0 : static_cast<unsigned>(current)));
}

awaitable<void> MucService::drain_writes(unsigned index) {
  auto& shard = *shards_[index % shards_.size()];
  while (!shard.writes.empty()) {
    auto write = std::move(shard.writes.front());
    shard.writes.pop_front();
    try {
      auto op = blocking_.run([&] { write(store_); });
      co_await std::move(op);
    } catch (const std::exception& e) {
      spdlog::error("muc: a room write failed, the room stays as it was stored: {}", e.what());
    }
  }
  shard.writing = false;
}

void MucService::publish(const Room& room) {
  directory_.set(room.jid().bare_string(), room.config.name.empty() ? room.jid().node() : room.config.name,
                 room.config.is_public && !room.locked);
}

}  // namespace tern::modules::muc
