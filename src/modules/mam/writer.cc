#include "modules/mam/writer.h"

#include <algorithm>
#include <map>

#include "core/log.h"

namespace tern::modules::mam {

ArchiveWriter::ArchiveWriter(storage::Storage& storage, core::BlockingPool& blocking, Spawn spawn,
                             std::size_t batch_rows, std::size_t max_queued, IsAccount is_account)
    : storage_(storage), blocking_(blocking), spawn_(std::move(spawn)),
      is_account_(std::move(is_account)), batch_rows_(batch_rows),
      max_queued_(max_queued) {}

void ArchiveWriter::push(std::vector<storage::ArchiveRow> rows) {
  bool start = false;
  {
    std::lock_guard lock(mutex_);
    if (queued_.size() + rows.size() > max_queued_) {
      if (dropped_.fetch_add(rows.size(), std::memory_order_relaxed) == 0)
        spdlog::error("mam: writer queue full ({} rows); dropping rows", max_queued_);
      return;
    }
    std::move(rows.begin(), rows.end(), std::back_inserter(queued_));
    start = !std::exchange(draining_, true);
  }
  if (start) spawn_(drain(shared_from_this()));
}

awaitable<void> ArchiveWriter::drain(std::shared_ptr<ArchiveWriter> self) {
  for (;;) {
    bool more = false;
    auto job = self->blocking_.run([&] { more = self->write_batch(true); });
    co_await std::move(job);
    if (!more) co_return;
  }
}

bool ArchiveWriter::write_batch(bool ends_drain) {
  std::vector<storage::ArchiveRow> batch;
  {
    std::lock_guard lock(mutex_);
    if (queued_.empty()) {
      if (ends_drain) draining_ = false;
      return false;
    }
    const std::size_t n = std::min(batch_rows_, queued_.size());
    batch.assign(std::make_move_iterator(queued_.begin()),
                 std::make_move_iterator(queued_.begin() + static_cast<std::ptrdiff_t>(n)));
    queued_.erase(queued_.begin(), queued_.begin() + static_cast<std::ptrdiff_t>(n));
    ++in_flight_;
  }
  write(batch);
  {
    std::lock_guard lock(mutex_);
    --in_flight_;
  }
  idle_.notify_all();
  return true;
}

void ArchiveWriter::write(std::vector<storage::ArchiveRow>& rows) {
  try {
    // A recipient's row is made before anyone knows the account exists:
    // rows of accounts that do not exist (any more) are not kept, or
    // whoever registers the name later would read them. A room's rows are
    // kept (the muc module deletes a room's archive with the room).
    std::map<std::string, bool> exists;
    for (const auto& row : rows) {
      auto [it, fresh] = exists.try_emplace(row.owner, false);
      if (!fresh) continue;
      if (!is_account_(row.owner)) {
        it->second = true;
        continue;
      }
      const auto at = row.owner.find('@');
      if (at == std::string::npos) continue;
      it->second = storage_.accounts().exists({row.owner.substr(0, at), row.owner.substr(at + 1)});
    }
    std::erase_if(rows, [&](const storage::ArchiveRow& r) { return !exists[r.owner]; });
    storage_.archive().append(rows);
  } catch (const std::exception& e) {
    dropped_.fetch_add(rows.size(), std::memory_order_relaxed);
    spdlog::error("mam: writing {} archive rows failed, rows dropped: {}", rows.size(), e.what());
  }
}

void ArchiveWriter::flush_now() {
  while (write_batch(false)) {
  }
  std::unique_lock lock(mutex_);
  idle_.wait(lock, [this] { return in_flight_ == 0; });
}

}  // namespace tern::modules::mam
