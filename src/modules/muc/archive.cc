// The room's archive (XEP-0313 on the room JID), retraction (XEP-0424) and
// moderation (XEP-0425), through the server's one archive (the rows of the
// account archives' table, owner = the room's bare JID; ids and writer
// shared with the mam module, see mam/shared_archive.h). docs/muc.md says
// who may read a room's archive and what they see.
//
// A row: owner = room, with = the sender's real bare JID, with_resource =
// the sender's nick, stanza = the message as the room broadcast it (from
// room/nick, without 'to', with the room's stanza-id). Real JIDs are added
// to results only for those who may see them.
//
// Storage work (queries, tombstones, deletion) runs on the blocking pool
// after the writer has written what was queued before; what it answers is
// sent from the room's shard. The room may be gone by then: the answer
// still goes, the room's state is looked up again.
#include <spdlog/spdlog.h>

#include "modules/mam/policy.h"
#include "modules/mam/query.h"
#include "modules/muc/service.h"
#include "xmpp/namespaces.h"
#include "xml/parse_element.h"
#include "xml/serializer.h"
#include "xmpp/datetime.h"

namespace tern::modules::muc {

using xmpp::ErrorType;
using xmpp::StanzaCondition;
using xmpp::StanzaError;

namespace {

constexpr std::size_t kPurgeBatchRows = 1000;

// Worth keeping: what was said (a body, an encrypted payload) and
// retractions, unless the sender asked otherwise (XEP-0334).
bool is_room_archivable(const xml::Element& m) {
  if (m.child("no-store", mam::kHintsNs) || m.child("no-permanent-store", mam::kHintsNs)) return false;
  return m.child("body") || m.child("encrypted", "eu.siacs.conversations.axolotl") ||
         m.child("encrypted", "urn:xmpp:omemo:2") || retracted_id(m).has_value() ||
         m.child("store", mam::kHintsNs);
}

enum class Tombstoned { kDone, kNotFound, kNotTheirs };

// On the pool: replaces row `id` of `room` with its tombstone, if it is
// there and (`owner_bare` non-empty) was sent by that account.
Tombstoned tombstone_in_store(storage::Storage& storage, mam::ArchiveWriter& writer,
                              const std::string& room, std::int64_t id,
                              const std::string& owner_bare, const xml::Element& retracted) {
  writer.flush_now();
  storage::ArchiveQuery q;
  q.ids = {id};
  q.limit = 1;
  auto page = storage.archive().query(room, q);
  if (page.rows.empty()) return Tombstoned::kNotFound;
  const auto& row = page.rows.front();
  if (!owner_bare.empty() && row.with != owner_bare) return Tombstoned::kNotTheirs;
  auto original = xml::parse_element(row.stanza, ns::kClient);
  if (!original) return Tombstoned::kNotFound;
  storage.archive().replace(room, id, xml::to_string(tombstone(*original, retracted), ns::kClient));
  return Tombstoned::kDone;
}

}  // namespace

struct MucService::RoomQuery {
  xml::Element iq;
  xmpp::Jid from;
  std::string room;
  bool see_jids = false;
  storage::ArchiveQuery page;
  std::optional<storage::ArchiveQuery> count;
  std::vector<std::int64_t> named;
  std::string queryid;
  bool flip = false;
};

std::int64_t MucService::archive_message(Room& room, const xmpp::Jid& sender_bare, xml::Element& m) {
  if (!archives(room) || !is_room_archivable(m)) return 0;
  const std::string by = room.jid().bare_string();
  const std::int64_t id = services_.archive->ids.next(std::chrono::system_clock::now());
  mam::add_stanza_id(m, by, mam::encode_id(id));
  auto from = xmpp::Jid::parse(m.attr_or("from"));
  std::vector<storage::ArchiveRow> rows;
  rows.push_back({by, id, sender_bare.bare_string(), from ? from->resource() : std::string(),
                  xml::to_string(m, ns::kClient)});
  services_.archive->writer->push(std::move(rows));
  return id;
}

void MucService::on_mam(Room& room, const xml::Element& iq, const xml::Element& query,
                        const xmpp::Jid& from) {
  const auto type = iq.attr_or("type");
  if (!archives(room)) {
    reply_error(iq, StanzaError(StanzaCondition::kServiceUnavailable));
    return;
  }
  if (auto refused = check_archive_reader(room, from)) {
    reply_error(iq, *refused);
    return;
  }
  const Affiliation affiliation = affiliation_of(room, from);
  const Occupant* occupant = room.occupant_by_session(from);
  if (type == "get" && query.name() == "metadata") {
    auto floor = here().archive_floors.find(room.jid().bare_string());
    host_.spawn(send_metadata(this, iq, room.jid().bare_string(),
                              floor == here().archive_floors.end() ? 0 : floor->second));
    return;
  }
  if (type == "get") {
    if (query.name() != "query") {
      reply_error(iq, StanzaError(StanzaCondition::kFeatureNotImplemented));
      return;
    }
    auto reply = xmpp::make_iq_result(iq);
    reply.add_child(mam::query_form());
    send(std::move(reply));
    return;
  }
  if (query.name() != "query") {
    reply_error(iq, StanzaError(StanzaCondition::kBadRequest, ErrorType::kModify));
    return;
  }
  auto parsed = mam::parse_query(query);
  if (auto* err = std::get_if<StanzaError>(&parsed)) {
    reply_error(iq, *err);
    return;
  }
  auto& request = std::get<mam::ArchiveRequest>(parsed);
  const bool see_jids = may_see_jids(room, occupant) || affiliation >= Affiliation::kAdmin;
  std::optional<xmpp::Jid> with = std::move(request.with);
  request.with.reset();
  if (request.ids.size() > options_.archive_max_page) {
    reply_error(iq, StanzaError(StanzaCondition::kPolicyViolation, "too many ids"));
    return;
  }
  const std::size_t page = std::min(request.max.value_or(options_.archive_max_page), options_.archive_max_page);
  auto q = std::make_shared<RoomQuery>();
  q->page = mam::to_storage_query(request, page);
  // 'with' in a room: an occupant's room JID (room/nick) filters by nick;
  // a real JID only for those who may see real JIDs.
  if (with) {
    if (with->bare_string() == room.jid().bare_string()) {
      q->page.with_resource = with->resource();
    } else if (see_jids) {
      q->page.with = with->bare_string();
    } else {
      reply_error(iq, StanzaError(StanzaCondition::kForbidden, ErrorType::kAuth,
                                  "real JIDs are hidden in this room: filter by room/nick"));
      return;
    }
  }
  mam::ArchiveRequest whole = request;
  whole.rsm_after.reset();
  whole.rsm_before.reset();
  q->count = mam::to_storage_query(whole, 0);
  q->count->with = q->page.with;
  q->count->with_resource = q->page.with_resource;
  q->count->with_count = true;
  if (auto it = here().archive_floors.find(room.jid().bare_string()); it != here().archive_floors.end()) {
    // The old room's rows, still being deleted.
    q->page.after = std::max(q->page.after, it->second);
    q->count->after = std::max(q->count->after, it->second);
  }
  q->named = request.named_ids();
  q->iq = iq;
  q->from = from;
  q->room = room.jid().bare_string();
  q->see_jids = see_jids;
  q->queryid = request.queryid;
  q->flip = request.flip_page;
  host_.spawn(run_room_query(this, std::move(q)));
}

std::optional<StanzaError> MucService::check_archive_reader(const Room& room,
                                                           const xmpp::Jid& from) const {
  // Who may read: the room's occupants and, whether present or not, its
  // members (and above); in a members-only room only members; never an
  // outcast.
  const Affiliation affiliation = affiliation_of(room, from);
  const bool member = affiliation >= Affiliation::kMember;
  const bool occupant = room.occupant_by_session(from) != nullptr;
  if (affiliation == Affiliation::kOutcast || (room.config.members_only && !member) ||
      (!occupant && !member))
    return StanzaError(StanzaCondition::kForbidden, ErrorType::kAuth);
  return std::nullopt;
}

awaitable<void> MucService::send_metadata(MucService* self, xml::Element iq, std::string room,
                                          std::int64_t floor) {
  std::optional<xml::Element> metadata;
  try {
    auto job = self->blocking_.run([&] {
      metadata = mam::read_metadata(self->storage_.archive(), *self->services_.archive->writer, room, floor);
    });
    co_await std::move(job);
  } catch (const std::exception& e) {
    spdlog::error("muc: archive metadata of {} failed: {}", room, e.what());
    self->reply_error(iq, StanzaError(StanzaCondition::kInternalServerError));
    co_return;
  }
  auto reply = xmpp::make_iq_result(iq);
  reply.add_child(std::move(*metadata));
  self->send(std::move(reply));
}

awaitable<void> MucService::run_room_query(MucService* self, std::shared_ptr<RoomQuery> q) {
  auto& storage = self->storage_;
  bool unknown_id = false;
  storage::ArchivePage page;
  try {
    auto job = self->blocking_.run([&] {
      self->services_.archive->writer->flush_now();  // what was said before the query
      for (auto id : q->named) {
        if (!storage.archive().contains(q->room, id)) {
          unknown_id = true;
          return;
        }
      }
      page = storage.archive().query(q->room, q->page);
      page.count = storage.archive().query(q->room, *q->count).count;
    });
    co_await std::move(job);
  } catch (const std::exception& e) {
    spdlog::error("muc: archive query of {} failed: {}", q->room, e.what());
    self->reply_error(q->iq, StanzaError(StanzaCondition::kInternalServerError));
    co_return;
  }
  if (unknown_id) {
    self->reply_error(q->iq, StanzaError(StanzaCondition::kItemNotFound));
    co_return;
  }
  auto send_row = [&](const storage::ArchiveRow& row) {
    auto original = xml::parse_element(row.stanza, ns::kClient);
    if (!original) {
      spdlog::error("muc: archived row {} of {} does not parse; skipped", row.id, q->room);
      return;
    }
    if (q->see_jids && !row.with.empty()) {
      // XEP-0313 §5.1.2: the sender's real JID, for those who may see it.
      auto& x = original->add_child("x", std::string(kUserNs));
      x.add_child("item").set_attr("jid", row.with);
    }
    self->send(mam::result_message(row, std::move(*original), q->queryid, q->from));
  };
  if (q->flip) {
    for (auto it = page.rows.rbegin(); it != page.rows.rend(); ++it) send_row(*it);
  } else {
    for (const auto& row : page.rows) send_row(row);
  }
  xml::Element fin("fin", std::string(mam::kNs));
  if (page.complete) fin.set_attr("complete", "true");
  auto& set = fin.add_child("set", std::string(mam::kRsmNs));
  if (!page.rows.empty()) {
    set.add_child("first").add_text(mam::encode_id(page.rows.front().id));
    set.add_child("last").add_text(mam::encode_id(page.rows.back().id));
  }
  if (page.count) set.add_child("count").add_text(std::to_string(*page.count));
  auto reply = xmpp::make_iq_result(q->iq);
  reply.add_child(std::move(fin));
  self->send(std::move(reply));
}

void MucService::retract(Room& room, const Occupant& sender, const std::string& id,
                         std::int64_t retraction) {
  auto decoded = mam::decode_id(id);
  if (!decoded || !archives(room)) return;
  room.history.erase_stanza(room.jid().bare_string(), id, sender.occupant_id);
  auto retracted = retracted_by_sender(xmpp::format_datetime(std::chrono::system_clock::now()),
                                       retraction ? mam::encode_id(retraction) : std::string());
  host_.spawn(tombstone_own(this, room.jid().bare_string(), *decoded, sender.bare.bare_string(),
                            std::move(retracted)));
}

awaitable<void> MucService::tombstone_own(MucService* self, std::string room, std::int64_t id,
                                          std::string sender_bare, xml::Element retracted) {
  Tombstoned result = Tombstoned::kNotFound;
  try {
    auto job = self->blocking_.run([&] {
      result = tombstone_in_store(self->storage_, *self->services_.archive->writer, room, id,
                                  sender_bare, retracted);
    });
    co_await std::move(job);
  } catch (const std::exception& e) {
    spdlog::error("muc: retraction in the archive of {} failed: {}", room, e.what());
    co_return;
  }
  // Only one's own messages: someone else's stays as it was (clients check
  // the same, by occupant-id, before they hide anything).
  if (result == Tombstoned::kNotTheirs)
    spdlog::info("muc: {} tried to retract a message of someone else in {}", sender_bare, room);
}

void MucService::on_moderate(Room& room, const xml::Element& iq, const xml::Element& payload,
                             const xmpp::Jid& from) {
  if (iq.attr_or("type") != "set") {
    reply_error(iq, StanzaError(StanzaCondition::kBadRequest, ErrorType::kModify));
    return;
  }
  const Occupant* moderator = room.occupant_by_session(from);
  if (!moderator || moderator->role != Role::kModerator) {
    reply_error(iq, StanzaError(StanzaCondition::kForbidden, ErrorType::kAuth,
                                "only moderators may moderate messages"));
    return;
  }
  auto parsed = parse_moderation(payload);
  if (auto* err = std::get_if<StanzaError>(&parsed)) {
    reply_error(iq, *err);
    return;
  }
  const auto& request = std::get<ModerationRequest>(parsed);
  auto id = mam::decode_id(request.id);
  if (!id || !archives(room)) {
    reply_error(iq, StanzaError(StanzaCondition::kItemNotFound));
    return;
  }
  const std::string by = room.jid().with_resource(moderator->nick).to_string();
  auto notice = moderation_message(room.jid().bare_string(), request, by, moderator->occupant_id);
  auto retracted = retracted_by_moderator(xmpp::format_datetime(std::chrono::system_clock::now()),
                                          by, moderator->occupant_id, request.reason);
  host_.spawn(moderate(this, iq, room.jid().bare_string(), *id, std::move(notice),
                       std::move(retracted), moderator->bare.bare_string()));
}

awaitable<void> MucService::moderate(MucService* self, xml::Element iq, std::string room,
                                     std::int64_t id, xml::Element notice, xml::Element retracted,
                                     std::string moderator_bare) {
  Tombstoned result = Tombstoned::kNotFound;
  try {
    auto job = self->blocking_.run([&] {
      result = tombstone_in_store(self->storage_, *self->services_.archive->writer, room, id, "",
                                  retracted);
    });
    co_await std::move(job);
  } catch (const std::exception& e) {
    spdlog::error("muc: moderation in the archive of {} failed: {}", room, e.what());
    self->reply_error(iq, StanzaError(StanzaCondition::kInternalServerError));
    co_return;
  }
  if (result != Tombstoned::kDone) {
    self->reply_error(iq, StanzaError(StanzaCondition::kItemNotFound));
    co_return;
  }
  // XEP-0425: every occupant (the moderator too) hears of it, and the
  // notice is archived so that clients catching up learn it as well.
  if (auto jid = xmpp::Jid::parse(room)) {
    if (Room* r = self->find_room(*jid)) {
      r->history.erase_stanza(room, mam::encode_id(id), "");
      self->archive_message(*r, xmpp::Jid::parse(moderator_bare).value_or(*jid), notice);
      self->send_to_occupants(*r, notice);
    }
  }
  self->send(xmpp::make_iq_result(iq));
}

void MucService::drop_archive(const Room& room) {
  if (!services_.archive) return;
  // Everything archived so far is below this id; whatever a room of the
  // same name archives from now on is above it and stays.
  const std::int64_t floor = services_.archive->ids.next(std::chrono::system_clock::now());
  const std::string jid = room.jid().bare_string();
  here().archive_floors[jid] = floor;
  host_.spawn(delete_archive(this, jid, floor));
}

awaitable<void> MucService::delete_archive(MucService* self, std::string room, std::int64_t floor) {
  try {
    for (;;) {
      std::size_t deleted = 0;
      auto job = self->blocking_.run([&] {
        self->services_.archive->writer->flush_now();  // its last rows first
        deleted = self->storage_.archive().purge_owner_before(room, floor, kPurgeBatchRows);
      });
      co_await std::move(job);
      if (deleted < kPurgeBatchRows) break;
    }
  } catch (const std::exception& e) {
    spdlog::error("muc: deleting the archive of {} failed: {}", room, e.what());
  }
  // Back on the room's shard.
  auto& floors = self->here().archive_floors;
  if (auto it = floors.find(room); it != floors.end() && it->second == floor) floors.erase(it);
}

void MucService::purge_archives() {
  if (!services_.archive || options_.archive_retention_days <= 0) return;
  std::vector<std::string> rooms;
  for (const auto& [jid, room] : here().rooms) rooms.push_back(jid);
  if (!rooms.empty()) host_.spawn(purge_room_archives(this, std::move(rooms)));
}

awaitable<void> MucService::purge_room_archives(MucService* self, std::vector<std::string> rooms) {
  const auto cutoff = std::chrono::system_clock::now() -
                      std::chrono::hours(24 * self->options_.archive_retention_days);
  const std::int64_t below = mam::first_id_at(cutoff);
  std::size_t total = 0;
  try {
    for (const auto& room : rooms) {
      for (;;) {
        std::size_t deleted = 0;
        auto job = self->blocking_.run(
            [&] { deleted = self->storage_.archive().purge_owner_before(room, below, kPurgeBatchRows); });
        co_await std::move(job);
        total += deleted;
        if (deleted < kPurgeBatchRows) break;
      }
    }
  } catch (const std::exception& e) {
    spdlog::error("muc: archive retention failed after {} rows: {}", total, e.what());
    co_return;
  }
  if (total > 0) spdlog::info("muc: retention purged {} archived room messages", total);
}

}  // namespace tern::modules::muc
