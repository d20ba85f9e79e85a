// The bytes waiting to go out on one connection. Writers append; one
// coroutine writes, and whatever was appended while a write was in flight
// goes out together in the next one, so a burst of stanzas costs one
// syscall (and one TLS record) per batch, not one each.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/asio.h"
#include "transport/transport.h"

namespace tern::transport {

class Outbox {
 public:
  // `describe` names the connection in log lines.
  Outbox(Transport& transport, asio::any_io_executor executor,
         std::function<std::string()> describe);

  // Appends and starts writing unless a write runs. `owner` is kept alive
  // until the queue is empty (the connection object that owns this outbox).
  void append(std::string_view bytes, const std::shared_ptr<void>& owner) {
    pending_.append(bytes);
    start(owner);
  }
  // For serialising straight into the queue; call start() after.
  std::string& pending() { return pending_; }
  void start(const std::shared_ptr<void>& owner);
  // Waits until everything appended so far has gone out (or failed).
  awaitable<void> drain();
  bool idle() const { return !writing_; }

 private:
  awaitable<void> flush(std::shared_ptr<void> owner);

  Transport& transport_;
  asio::any_io_executor executor_;
  std::function<std::string()> describe_;
  std::string pending_;
  bool writing_ = false;
  asio::steady_timer drained_;  // cancelled when the queue empties
};

}  // namespace tern::transport
