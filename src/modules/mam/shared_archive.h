// The server's one message archive as modules write it: the id source and
// the batched writer, shared by account MAM (mam.cc) and room MAM
// (muc/archive.cc), so that ids stay unique across every archive of the
// table and every row goes through one writer queue (writer.h says what
// happens to queued rows on SIGTERM, kill -9 and a full disk).
#pragma once

#include <memory>

#include "modules/mam/archive_id.h"
#include "modules/mam/writer.h"
#include "modules/module.h"

namespace tern::modules::mam {

struct SharedArchive {
  explicit SharedArchive(std::int64_t max_id) : ids(max_id) {}
  IdSource ids;
  std::shared_ptr<ArchiveWriter> writer;
};

// The archive an earlier module offered, or a new one (ids above what is
// stored, read now: call at start, before any message) that later modules
// then find.
std::shared_ptr<SharedArchive> shared_archive(ModuleContext& ctx);

// One result of a query (§4.2): `original` forwarded with its delay, from
// the archive's owner (an account or a room) to the asking session.
xml::Element result_message(const storage::ArchiveRow& row, xml::Element original,
                            const std::string& queryid, const xmpp::Jid& to);

// XEP-0313 §5: the <metadata/> of `owner`'s archive (the first and last
// ids with their stamps; empty when the archive is), counting only rows
// above `floor`. Blocking: on the pool, after the writer's queued rows.
xml::Element read_metadata(storage::MessageArchive& archive, ArchiveWriter& writer,
                           const std::string& owner, std::int64_t floor = 0);

}  // namespace tern::modules::mam
