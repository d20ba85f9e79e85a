#include "modules/mam/shared_archive.h"

#include "modules/mam/query.h"
#include "xmpp/namespaces.h"
#include "xmpp/datetime.h"

namespace tern::modules::mam {
namespace {

// Rows per transaction, and how many may wait (see writer.h).
constexpr std::size_t kBatchRows = 500;
constexpr std::size_t kMaxQueuedRows = 200000;

}  // namespace

std::shared_ptr<SharedArchive> shared_archive(ModuleContext& ctx) {
  if (auto found = ctx.features.services.find<SharedArchive>()) return found;
  auto archive = std::make_shared<SharedArchive>(ctx.storage.archive().max_id());
  Host host = ctx.host;
  archive->writer = std::make_shared<ArchiveWriter>(
      ctx.storage, ctx.blocking, [host](awaitable<void> w) { host.spawn(std::move(w)); },
      kBatchRows, kMaxQueuedRows, [host](const std::string& owner) {
        // Accounts live on the server's domains, rooms on service domains.
        const auto at = owner.find('@');
        return at != std::string::npos && host.is_local_domain(owner.substr(at + 1));
      });
  ctx.features.services.offer(archive);
  return archive;
}

xml::Element result_message(const storage::ArchiveRow& row, xml::Element original,
                            const std::string& queryid, const xmpp::Jid& to) {
  xml::Element message("message", ns::kClient);
  message.set_attr("from", row.owner);
  message.set_attr("to", to.to_string());
  message.set_attr("id", encode_id(row.id));
  auto& result = message.add_child("result", std::string(kNs));
  if (!queryid.empty()) result.set_attr("queryid", queryid);
  result.set_attr("id", encode_id(row.id));
  auto& forwarded = result.add_child("forwarded", std::string(kForwardNs));
  forwarded.add_child("delay", std::string(kDelayNs))
      .set_attr("stamp", xmpp::format_datetime(time_of(row.id)));
  forwarded.add_child(std::move(original));
  return message;
}

xml::Element read_metadata(storage::MessageArchive& archive, ArchiveWriter& writer,
                           const std::string& owner, std::int64_t floor) {
  writer.flush_now();
  auto bounds = archive.bounds(owner);
  if (bounds && bounds->second.id <= floor) bounds.reset();
  if (bounds && bounds->first.id <= floor) {
    // Rows at or below the floor are an old archive's, still being deleted.
    storage::ArchiveQuery q;
    q.after = floor;
    q.limit = 1;
    auto page = archive.query(owner, q);
    if (page.rows.empty()) bounds.reset();
    else bounds->first = std::move(page.rows.front());
  }
  xml::Element el("metadata", std::string(kNs));
  if (bounds) {
    for (auto [name, row] : {std::pair{"start", &bounds->first}, {"end", &bounds->second}}) {
      auto& e = el.add_child(name);
      e.set_attr("id", encode_id(row->id));
      e.set_attr("timestamp", xmpp::format_datetime(time_of(row->id)));
    }
  }
  return el;
}

}  // namespace tern::modules::mam
