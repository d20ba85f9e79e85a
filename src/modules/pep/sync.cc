// Keeping bookmarks in step across their three homes (bookmarks.h), and
// avatars across PEP and the vCard (avatar.h): after a change through one,
// the others are rewritten from it in one blocking job, and the owner's
// resources (and contacts, for avatars) hear of the PEP changes as of any
// other.
#include <map>

#include "core/log.h"
#include "modules/pep/avatar.h"
#include "modules/pep/bookmarks.h"
#include "modules/pep/pep.h"
#include "modules/pep/vcard4.h"
#include "xml/parse_element.h"
#include "xml/serializer.h"
#include "xmpp/namespaces.h"

namespace tern::modules::pep {
namespace {

using pubsub::NodeConfig;

storage::AccountKey key_of(const std::string& bare) {
  auto at = bare.find('@');
  return {bare.substr(0, at), bare.substr(at + 1)};
}

// XEP-0402 §5 / XEP-0223: private, persistent, every item kept, nothing
// sent on presence.
NodeConfig private_config() {
  NodeConfig c = pubsub::default_config(true);
  c.access_model = pubsub::AccessModel::kWhitelist;
  c.persist_items = true;
  c.max_items = pubsub::kMaxItemsMax;
  c.send_last = pubsub::SendLastItem::kNever;
  return c;
}

struct Change {
  Event event;
  NodeConfig config;
  Audience audience;
};

NodeConfig ensure_node(storage::PubsubStore& ps, const std::string& account, const std::string& node,
                       NodeConfig config = private_config()) {
  if (auto rec = ps.node(account, node))
    if (auto stored = pubsub::deserialize(rec->config)) return *stored;
  ps.create_node({account, node, pubsub::serialize(config)});
  return config;
}

Audience audience_of(storage::Storage& s, const std::string& account, const std::string& node) {
  Audience a;
  a.roster = s.roster().items(key_of(account));
  a.subscriptions = s.pubsub().subscriptions(account, node);
  a.affiliations = s.pubsub().affiliations(account, node);
  return a;
}

void write_legacy_node(storage::Storage& s, const std::string& account, const xml::Element& storage,
                       std::size_t limit, std::vector<Change>& changes) {
  auto& ps = s.pubsub();
  NodeConfig config = ensure_node(ps, account, bookmarks::kLegacyNs);
  const std::string payload = xml::to_string(storage, "");
  ps.publish(account, bookmarks::kLegacyNs,
             {"current", account, payload, PepService::now_ms()},
             pubsub::effective_max_items(config, limit));
  changes.push_back({{account, bookmarks::kLegacyNs,
                      xml::to_string(item_event(bookmarks::kLegacyNs, "current", &storage), "")},
                     config, audience_of(s, account, bookmarks::kLegacyNs)});
}

void write_pep_bookmarks(storage::Storage& s, const std::string& account,
                         std::vector<bookmarks::Bookmark> wanted, std::size_t limit,
                         std::vector<Change>& changes) {
  auto& ps = s.pubsub();
  NodeConfig config = ensure_node(ps, account, bookmarks::kNode);
  std::map<std::string, storage::PubsubItemRecord> existing;
  for (auto& item : ps.items(account, bookmarks::kNode, {}, 0)) existing.emplace(item.id, std::move(item));
  Audience audience = audience_of(s, account, bookmarks::kNode);
  for (auto& b : wanted) {
    auto old = existing.find(b.jid);
    if (old != existing.end()) {
      // XEP-0048 has no <extensions/>: keep what the room had.
      if (!b.extensions)
        if (auto el = xml::parse_element(old->second.payload, ns::kClient))
          if (auto prev = bookmarks::from_item(b.jid, *el)) b.extensions = prev->extensions;
    }
    const xml::Element conference = bookmarks::to_conference(b);
    const std::string payload = xml::to_string(conference, "");
    if (old != existing.end()) {
      const bool same = old->second.payload == payload;
      existing.erase(old);
      if (same) continue;
    }
    ps.publish(account, bookmarks::kNode, {b.jid, account, payload, PepService::now_ms()},
               pubsub::effective_max_items(config, limit));
    changes.push_back({{account, bookmarks::kNode,
                        xml::to_string(item_event(bookmarks::kNode, b.jid, &conference), "")},
                       config, audience});
  }
  for (const auto& [id, item] : existing) {
    ps.retract(account, bookmarks::kNode, id);
    changes.push_back({{account, bookmarks::kNode, xml::to_string(retract_event(bookmarks::kNode, id), "")},
                       config, audience});
  }
}

std::vector<Change> sync_job(storage::Storage& s, const std::string& account, BookmarkSource source,
                             std::size_t limit) {
  std::vector<Change> changes;
  auto& ps = s.pubsub();
  auto& docs = s.documents();
  const auto owner = key_of(account);
  std::vector<xml::Element> urls;
  std::vector<bookmarks::Bookmark> marks;
  std::optional<xml::Element> private_doc;
  if (auto text = docs.get(owner, bookmarks::kPrivateKey)) private_doc = xml::parse_element(*text, ns::kClient);
  switch (source) {
    case BookmarkSource::kPep: {
      for (const auto& item : ps.items(account, bookmarks::kNode, {}, 0))
        if (auto el = xml::parse_element(item.payload, ns::kClient))
          if (auto b = bookmarks::from_item(item.id, *el)) marks.push_back(std::move(*b));
      if (private_doc) bookmarks::from_storage(*private_doc, &urls);
      break;
    }
    case BookmarkSource::kLegacyPep: {
      auto items = ps.items(account, bookmarks::kLegacyNs, {}, 1);
      if (items.empty()) return changes;
      auto el = xml::parse_element(items.front().payload, ns::kClient);
      if (!el) return changes;
      marks = bookmarks::from_storage(*el, &urls);
      break;
    }
    case BookmarkSource::kPrivate: {
      if (!private_doc) return changes;
      marks = bookmarks::from_storage(*private_doc, &urls);
      break;
    }
  }
  const xml::Element storage = bookmarks::to_storage(marks, urls);
  if (source != BookmarkSource::kPrivate) docs.put(owner, bookmarks::kPrivateKey, xml::to_string(storage, ""));
  if (source != BookmarkSource::kLegacyPep) write_legacy_node(s, account, storage, limit, changes);
  if (source != BookmarkSource::kPep) write_pep_bookmarks(s, account, std::move(marks), limit, changes);
  return changes;
}

// XEP-0398: the avatar published through PEP becomes the vCard's PHOTO.
void avatar_to_vcard(storage::Storage& s, const std::string& account) {
  auto& ps = s.pubsub();
  auto meta = ps.items(account, avatar::kMetadataNode, {}, 1);
  if (meta.empty()) return;
  auto meta_el = xml::parse_element(meta.front().payload, ns::kClient);
  if (!meta_el) return;
  std::optional<avatar::Photo> photo;
  if (auto info = avatar::metadata_info(*meta_el)) {
    auto data = ps.items(account, avatar::kDataNode, {info->first}, 1);
    if (data.empty()) return;  // metadata pointing elsewhere (an URL): nothing to copy
    auto data_el = xml::parse_element(data.front().payload, ns::kClient);
    if (!data_el) return;
    photo = avatar::Photo{info->second, data_el->text()};
  }
  const auto owner = key_of(account);
  std::optional<xml::Element> vcard;
  if (auto text = s.documents().get(owner, avatar::kVcardKey)) vcard = xml::parse_element(*text, ns::kClient);
  if (!photo && (!vcard || !avatar::photo_of(*vcard))) return;
  s.documents().put(owner, avatar::kVcardKey, xml::to_string(avatar::with_photo(std::move(vcard), photo), ""));
}

// …and a vCard PHOTO is published through PEP, unless it is there already.
std::vector<Change> vcard_to_avatar(storage::Storage& s, const std::string& account,
                                    const avatar::Photo& photo, std::size_t limit) {
  std::vector<Change> changes;
  std::size_t bytes = 0;
  auto id = avatar::image_id(photo.base64, &bytes);
  if (!id) return changes;
  auto& ps = s.pubsub();
  auto meta = ps.items(account, avatar::kMetadataNode, {}, 1);
  if (!meta.empty())
    if (auto el = xml::parse_element(meta.front().payload, ns::kClient))
      if (auto info = avatar::metadata_info(*el); info && info->first == *id) return changes;
  const NodeConfig defaults = pubsub::default_config(true);
  const xml::Element data = avatar::data_for(photo.base64);
  const xml::Element metadata = avatar::metadata_for(*id, photo.type, bytes);
  for (const auto& [node, payload] : {std::pair{avatar::kDataNode, &data},
                                      std::pair{avatar::kMetadataNode, &metadata}}) {
    NodeConfig config = ensure_node(ps, account, node, defaults);
    ps.publish(account, node, {*id, account, xml::to_string(*payload, ""), PepService::now_ms()},
               config.persist_items ? pubsub::effective_max_items(config, limit) : 1);
    changes.push_back({{account, node, xml::to_string(item_event(node, *id, payload), "")}, config,
                       audience_of(s, account, node)});
  }
  return changes;
}

std::optional<xml::Element> stored_vcard(storage::Storage& s, const std::string& account) {
  if (auto text = s.documents().get(key_of(account), avatar::kVcardKey)) return xml::parse_element(*text, ns::kClient);
  return std::nullopt;
}

std::optional<xml::Element> current_vcard4(storage::Storage& s, const std::string& account) {
  auto items = s.pubsub().items(account, vcard4::kNode, {}, 1);
  if (items.empty()) return std::nullopt;
  auto el = xml::parse_element(items.front().payload, ns::kClient);
  if (!el || el->name() != "vcard" || el->ns() != vcard4::kNs) return std::nullopt;
  return el;
}

// XEP-0292: the basic fields of the vcard-temp just stored become those of
// the vCard4 node's current item; published (and notified) only when they
// changed it, so a vCard set that touched only the PHOTO sends nothing.
std::vector<Change> vcard_temp_to_vcard4(storage::Storage& s, const std::string& account,
                                         std::size_t limit) {
  std::vector<Change> changes;
  auto before = current_vcard4(s, account);
  const std::string old_payload = before ? xml::to_string(*before, "") : std::string();
  const xml::Element updated =
      vcard4::with_fields_of_vcard_temp(stored_vcard(s, account), std::move(before));
  if (old_payload.empty() && vcard4::has_no_fields(updated)) return changes;
  const std::string payload = xml::to_string(updated, "");
  if (payload == old_payload) return changes;
  auto& ps = s.pubsub();
  NodeConfig config = ensure_node(ps, account, vcard4::kNode, pubsub::default_config(true));
  ps.publish(account, vcard4::kNode, {vcard4::kItemId, account, payload, PepService::now_ms()},
             config.persist_items ? pubsub::effective_max_items(config, limit) : 1);
  if (config.deliver_notifications)
    changes.push_back({{account, vcard4::kNode,
                        xml::to_string(item_event(vcard4::kNode, vcard4::kItemId,
                                                  config.deliver_payloads ? &updated : nullptr),
                                       "")},
                       config, audience_of(s, account, vcard4::kNode)});
  return changes;
}

// …and the other way: a vCard4 publish rewrites vcard-temp's basic fields,
// keeping the rest (PHOTO, ADR, ORG, …).
void vcard4_to_vcard_temp(storage::Storage& s, const std::string& account) {
  auto v4 = current_vcard4(s, account);
  if (!v4) return;
  auto before = stored_vcard(s, account);
  const std::string old_text = before ? xml::to_string(*before, "") : std::string();
  const xml::Element updated = vcard4::with_fields_of_vcard4(*v4, std::move(before));
  if (old_text.empty() && vcard4::has_no_fields(updated)) return;
  const std::string text = xml::to_string(updated, "");
  if (text == old_text) return;
  s.documents().put(key_of(account), avatar::kVcardKey, text);
}

}  // namespace

awaitable<void> sync_vcard4_from_vcard_temp(std::shared_ptr<PepService> self, std::string account) {
  auto& store = self->storage();
  const std::size_t limit = self->options().max_items;
  auto op = self->blocking().run([&] { return vcard_temp_to_vcard4(store, account, limit); });
  std::vector<Change> changes;
  try {
    changes = co_await std::move(op);
  } catch (const std::exception& e) {
    spdlog::error("pep: copying the vCard of {} to vCard4 failed: {}", account, e.what());
    co_return;
  }
  for (const auto& c : changes) self->fan_out(c.event, c.config, c.audience);
}

awaitable<void> sync_vcard_temp_from_vcard4(std::shared_ptr<PepService> self, std::string account) {
  auto& store = self->storage();
  auto op = self->blocking().run([&] { vcard4_to_vcard_temp(store, account); });
  try {
    co_await std::move(op);
  } catch (const std::exception& e) {
    spdlog::error("pep: copying the vCard4 of {} to vcard-temp failed: {}", account, e.what());
  }
}

awaitable<void> sync_avatar_from_pep(std::shared_ptr<PepService> self, std::string account) {
  auto& store = self->storage();
  auto op = self->blocking().run([&] { avatar_to_vcard(store, account); });
  try {
    co_await std::move(op);
  } catch (const std::exception& e) {
    spdlog::error("pep: copying the avatar of {} to the vCard failed: {}", account, e.what());
  }
}

awaitable<void> sync_avatar_from_vcard(std::shared_ptr<PepService> self, std::string account,
                                       avatar::Photo photo) {
  auto& store = self->storage();
  const std::size_t limit = self->options().max_items;
  auto op = self->blocking().run([&] { return vcard_to_avatar(store, account, photo, limit); });
  std::vector<Change> changes;
  try {
    changes = co_await std::move(op);
  } catch (const std::exception& e) {
    spdlog::error("pep: publishing the vCard avatar of {} failed: {}", account, e.what());
    co_return;
  }
  for (const auto& c : changes) self->fan_out(c.event, c.config, c.audience);
}

std::optional<BookmarkSource> bookmark_source(std::string_view node) {
  if (node == bookmarks::kNode) return BookmarkSource::kPep;
  if (node == bookmarks::kLegacyNs) return BookmarkSource::kLegacyPep;
  return std::nullopt;
}

awaitable<void> sync_bookmarks(std::shared_ptr<PepService> self, std::string account,
                               BookmarkSource source) {
  auto& store = self->storage();
  const std::size_t limit = self->options().max_items;
  auto op = self->blocking().run([&] { return sync_job(store, account, source, limit); });
  std::vector<Change> changes;
  try {
    changes = co_await std::move(op);
  } catch (const std::exception& e) {
    // The change itself is stored; its copies are not. Logged, and the
    // next change rewrites them whole.
    spdlog::error("pep: keeping bookmarks of {} in step failed: {}", account, e.what());
    co_return;
  }
  for (const auto& c : changes) self->fan_out(c.event, c.config, c.audience);
}

}  // namespace tern::modules::pep
