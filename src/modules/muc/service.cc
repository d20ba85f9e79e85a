#include "modules/muc/service.h"

#include <spdlog/spdlog.h>

#include "core/shards.h"
#include "modules/muc/config_form.h"
#include "modules/options.h"
#include "sasl/mechanism.h"
#include "xml/parse_element.h"
#include "xml/serializer.h"
#include "xmpp/namespaces.h"

namespace tern::modules::muc {

using xmpp::StanzaCondition;
using xmpp::StanzaError;

void RoomDirectory::set(const std::string& jid, const std::string& name, bool listed) {
  std::lock_guard lock(mutex_);
  if (listed) {
    rooms_[jid] = name;
  } else {
    rooms_.erase(jid);
  }
}

std::vector<DiscoItem> RoomDirectory::items(const std::string& service) const {
  std::lock_guard lock(mutex_);
  std::vector<DiscoItem> out;
  for (const auto& [jid, name] : rooms_) {
    auto at = jid.find('@');
    if (at != std::string::npos && jid.compare(at + 1, std::string::npos, service) == 0)
      out.push_back({jid, "", name});
  }
  return out;
}

MucService::MucService(const Host& host, storage::Storage& storage, core::BlockingPool& blocking,
                       MucOptions options)
    : host_(host), storage_(storage), store_(storage.muc()), blocking_(blocking),
      options_(std::move(options)) {
  for (unsigned i = 0; i < std::max(1u, host_.shard_count()); ++i)
    shards_.push_back(std::make_unique<ShardRooms>());
}

unsigned MucService::shard_of(const xmpp::Jid& room) const {
  return static_cast<unsigned>(std::hash<std::string>{}(room.bare_string()) % shards_.size());
}

ShardRooms& MucService::here() {
  const int shard = core::Shards::current();
  return *shards_[shard < 0 ? 0 : static_cast<unsigned>(shard) % shards_.size()];
}

Room* MucService::find_room(const xmpp::Jid& room) {
  auto& rooms = here().rooms;
  auto it = rooms.find(room.bare_string());
  return it == rooms.end() ? nullptr : it->second.get();
}

void MucService::load_rooms(const std::string& service) {
  for (auto& record : store_.rooms(service)) {
    auto jid = xmpp::Jid::parse(record.jid);
    auto stored = parse_stored_config(record.config, options_.max_history);
    if (!jid || !stored) {
      spdlog::warn("muc: skipping stored room {}: unreadable configuration", record.jid);
      continue;
    }
    auto room = std::make_unique<Room>(*jid, stored->second.empty() ? sasl::base64_encode(sasl::random_bytes(16)) : stored->second);
    room->config = stored->first;
    room->subject = record.subject;
    room->subject_nick = record.subject_nick;
    for (const auto& [who, name] : record.affiliations) {
      auto bare = xmpp::Jid::parse(who);
      auto a = parse_affiliation(name);
      if (bare && a) room->set_affiliation(*bare, *a);
    }
    for (const auto& [who, nick] : record.nicks) {
      auto bare = xmpp::Jid::parse(who);
      if (bare && room->affiliation_of(*bare) > Affiliation::kNone) room->register_nick(*bare, nick);
    }
    room->avatar = stored_avatar(record.vcard);
    publish(*room);
    // Not yet claimed: no shard touches the tables before start ends.
    shards_[shard_of(*jid)]->rooms.emplace(jid->bare_string(), std::move(room));
  }
}

void MucService::on_stanza(xml::Element stanza, const xmpp::Jid& from, const xmpp::Jid& to) {
  if (!to.has_node()) {
    on_service_stanza(stanza, from, to);
    return;
  }
  const unsigned shard = shard_of(to);
  if (core::Shards::current() == static_cast<int>(shard)) {
    // Posted, not handled here: what a room sends is routed at once, and a
    // stanza a room sends to a room (an invitation, say) must not run
    // inside the first room's handler.
    auto held = std::make_shared<xml::Element>(std::move(stanza));
    host_.post_to_shard(shard, [this, held, from, to] { on_room_stanza(std::move(*held), from, to); });
    return;
  }
  // Only bytes cross shards: the tree is freed here, rebuilt there.
  auto bytes = std::make_shared<const std::string>(xml::to_string(stanza, ns::kClient));
  host_.post_to_shard(shard, [this, bytes, from, to] {
    auto copy = xml::parse_element(*bytes, ns::kClient);
    if (copy) on_room_stanza(std::move(*copy), from, to);
  });
}

void MucService::on_room_stanza(xml::Element stanza, const xmpp::Jid& from, const xmpp::Jid& to) {
  Room* room = find_room(to);
  const auto& name = stanza.name();
  if (name == "presence") {
    on_presence(room, stanza, from, to);
  } else if (name == "message") {
    on_message(room, stanza, from, to);
  } else if (name == "iq") {
    on_room_iq(room, stanza, from, to);
  }
  // A temporary room goes with its last occupant (§10.1: it is "destroyed
  // when the last occupant exits").
  close_if_empty(to);
}

void MucService::reply_error(const xml::Element& stanza, const StanzaError& err) const {
  if (stanza.attr_or("type") == "error") return;
  host_.bounce(stanza, err);
}

void MucService::send_to_occupant(const Occupant& o, const xml::Element& stanza) const {
  for (const auto& session : o.sessions) {
    xml::Element copy = stanza;
    copy.set_attr("to", session.to_string());
    send(std::move(copy));
  }
}

void MucService::send_to_occupants(const Room& room, const FormFor& form, const Occupant* except) const {
  struct View {
    const Occupant* viewer = nullptr;  // any one occupant with this view
    std::vector<xmpp::Jid> sessions;
  };
  View seeing, blind;
  for (const auto& [nick, o] : room.occupants()) {
    if (&o == except) continue;
    View& view = may_see_jids(room, &o) ? seeing : blind;
    view.viewer = &o;
    view.sessions.insert(view.sessions.end(), o.sessions.begin(), o.sessions.end());
  }
  for (const View* view : {&seeing, &blind})
    if (view->viewer) host_.route_copies(form(*view->viewer), view->sessions);
}

void MucService::send_to_occupants(const Room& room, const xml::Element& stanza) const {
  std::vector<xmpp::Jid> sessions;
  for (const auto& [nick, o] : room.occupants())
    sessions.insert(sessions.end(), o.sessions.begin(), o.sessions.end());
  host_.route_copies(stanza, sessions);
}

void MucService::on_server_stopping() {
  // Each occupant hears that it is out, with 332 (and 110: it is itself);
  // the streams close after this, so the presences go out first.
  for (auto& [jid, room] : here().rooms) {
    for (const auto& [nick, o] : room->occupants())
      send_to_occupant(o, unavailable_of(*room, o, &o, Departure::with({332}), true));
    room->occupants().clear();
    // A temporary room ends here: its archive goes with it (counted work,
    // which the stop waits for).
    if (!room->config.persistent && archives(*room)) drop_archive(*room);
  }
}

Affiliation MucService::affiliation_of(const Room& room, const xmpp::Jid& who) const {
  // Server admins own every room (they can always sort a room out).
  if (options_.admins.count(who.bare_string())) return Affiliation::kOwner;
  return room.affiliation_of(who);
}

namespace {

struct MucModule : Module {
  // The domain claims go first: a shard may be running the handler, which
  // holds the service, for the length of one call.
  ~MucModule() override { tokens.clear(); }
  std::unique_ptr<MucService> service;
};

}  // namespace

std::unique_ptr<Module> start_muc(ModuleContext& ctx) {
  MucOptions options = read_options("muc", ctx.options, kMucOptions);
  for (const auto& text : ctx.config.admins)
    if (auto jid = xmpp::Jid::parse(text)) options.admins.insert(jid->bare_string());

  auto m = std::make_unique<MucModule>();
  m->service = std::make_unique<MucService>(ctx.host, ctx.storage, ctx.blocking, options);
  auto* service = m->service.get();
  // Room archives go through the server's one archive (shared with the mam
  // module when it runs, which starts first).
  service->set_services(RoomServices{mam::shared_archive(ctx)});
  m->tokens.push_back(ctx.hooks().server_stopping.add([service](router::ServerStopping&) {
    service->on_server_stopping();
    return core::Verdict::kPass;
  }));
  if (options.archive_retention_days > 0) {
    const unsigned shards = std::max(1u, ctx.host.shard_count());
    auto purge_everywhere = [service, host = ctx.host, shards] {
      for (unsigned s = 0; s < shards; ++s) host.post_to_shard(s, [service] { service->purge_archives(); });
    };
    m->tokens.push_back(ctx.host.every(std::chrono::hours(1), purge_everywhere));
  }
  std::set<std::string> served;
  for (const auto& domain : ctx.host.domains()) {
    const std::string name = service_domain("muc", "domain", options.domain, domain);
    if (!served.insert(name).second) continue;  // one service for several domains
    service->load_rooms(name);
    m->tokens.push_back(ctx.serve_domain(
        name, [service](xml::Element stanza, const xmpp::Jid& from, const xmpp::Jid& to) {
          service->on_stanza(std::move(stanza), from, to);
        }));
    ctx.features.disco_items.push_back({name, "", "Chatrooms"});
  }
  return m;
}

TERN_MODULE("muc",
            "XEP-0045 Multi-User Chat with nick registration, room archives (XEP-0313), retraction "
            "and moderation (XEP-0424, XEP-0425), room avatars (XEP-0486)",
            &start_muc, 60, kMucOptions);

}  // namespace tern::modules::muc
