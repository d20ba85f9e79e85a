// The archive's writer queue: rows are made on the shards as messages are
// routed and written off the shards, on the blocking pool, many rows per
// transaction, by one drain at a time.
//
// What happens to queued rows:
//  - SIGTERM: the drain is counted router work, so the server's ordered
//    stop waits for it (bounded by server.shutdown_timeout_seconds) before
//    the pool stops: nothing queued is lost.
//  - kill -9 (or a crash): rows not yet committed are lost, a few
//    milliseconds' worth under load. The messages themselves were
//    delivered; their stanza-ids then name rows that do not exist, and a
//    client asking for them gets item-not-found and pages from the last id
//    it knows.
//  - Full disk (or any storage failure): the batch's transaction fails, is
//    logged and counted, and its rows are dropped; the queue goes on.
//  - A queue past `max_queued` rows (storage far slower than traffic):
//    further rows are dropped and counted, so memory stays bounded. The
//    module holds senders back well before that (see kBackPressureRows in
//    mam.cc), so this is the last resort, not the policy.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

#include "core/asio.h"
#include "core/blocking_pool.h"
#include "storage/storage.h"

namespace tern::modules::mam {

class ArchiveWriter : public std::enable_shared_from_this<ArchiveWriter> {
 public:
  // `spawn` runs a coroutine on the calling shard, counted as router work.
  using Spawn = std::function<void(awaitable<void>)>;
  // Whether an archive owner is an account (its rows are kept only while
  // the account exists) rather than a room (on a service domain).
  using IsAccount = std::function<bool(const std::string& owner)>;
  ArchiveWriter(storage::Storage& storage, core::BlockingPool& blocking, Spawn spawn,
                std::size_t batch_rows, std::size_t max_queued, IsAccount is_account);

  // Queues rows (any thread); starts a drain if none runs.
  void push(std::vector<storage::ArchiveRow> rows);
  // On the blocking pool: writes everything queued so far and waits for the
  // batch in flight, so that a query sees every row queued before it.
  void flush_now();

  std::size_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
  // Rows waiting to be written (any thread).
  std::size_t backlog() {
    std::lock_guard lock(mutex_);
    return queued_.size();
  }

 private:
  static awaitable<void> drain(std::shared_ptr<ArchiveWriter> self);
  // Writes one batch; false when the queue was empty (and, if `ends_drain`,
  // the drain is over).
  bool write_batch(bool ends_drain);
  void write(std::vector<storage::ArchiveRow>& rows);

  storage::Storage& storage_;
  core::BlockingPool& blocking_;
  Spawn spawn_;
  IsAccount is_account_;
  const std::size_t batch_rows_;
  const std::size_t max_queued_;
  std::mutex mutex_;
  std::condition_variable idle_;
  std::vector<storage::ArchiveRow> queued_;
  bool draining_ = false;
  int in_flight_ = 0;  // batches being written
  std::atomic<std::size_t> dropped_{0};
};

}  // namespace tern::modules::mam
