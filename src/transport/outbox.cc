#include "transport/outbox.h"

#include "core/log.h"

namespace tern::transport {

Outbox::Outbox(Transport& transport, asio::any_io_executor executor,
               std::function<std::string()> describe)
    : transport_(transport),
      executor_(executor),
      describe_(std::move(describe)),
      drained_(executor) {}

void Outbox::start(const std::shared_ptr<void>& owner) {
  if (writing_ || pending_.empty()) return;
  writing_ = true;
  asio::co_spawn(executor_, flush(owner), asio::detached);
}

awaitable<void> Outbox::flush(std::shared_ptr<void> owner) {
  std::string batch;
  try {
    while (!pending_.empty() && transport_.is_open()) {
      batch.clear();
      batch.swap(pending_);
      co_await transport_.write_all(batch);
    }
  } catch (const boost::system::system_error& e) {
    spdlog::debug("{}: write failed: {}", describe_(), e.code().message());
    pending_.clear();
    transport_.close();
  } catch (const std::exception& e) {
    // Sealing failed (a bug, or OpenSSL out of memory): still end the
    // connection and clear writing_, or drain() would wait for ever.
    spdlog::error("{}: write failed: {}", describe_(), e.what());
    pending_.clear();
    transport_.close();
  }
  // A burst must not pin its buffer for the life of an idle connection.
  if (pending_.capacity() > 4096) std::string().swap(pending_);
  writing_ = false;
  drained_.cancel();
}

awaitable<void> Outbox::drain() {
  while (writing_) {
    drained_.expires_at(std::chrono::steady_clock::time_point::max());
    boost::system::error_code ec;
    co_await drained_.async_wait(asio::redirect_error(use_awaitable, ec));
  }
}

}  // namespace tern::transport
