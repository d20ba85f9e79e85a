#include "server/listeners.h"

#include <fmt/format.h>

#include "server/loop_calls.h"

namespace tern::server {

ListenerGroup::ListenerGroup(core::Shards& shards, std::string kind,
                             std::vector<std::string> addresses, MakeAcceptHandler make_handler)
    : shards_(shards),
      kind_(std::move(kind)),
      addresses_(std::move(addresses)),
      make_handler_(std::move(make_handler)) {}

// Listeners go while their loops still exist, after the loops' threads have
// stopped (the server's members are declared in that order).
ListenerGroup::~ListenerGroup() = default;

void ListenerGroup::open() {
  for (const auto& address : addresses_) {
    auto ep = transport::parse_endpoint(address);
    for (unsigned s = 0; s < shards_.size(); ++s) {
      std::unique_ptr<transport::Listener> listener;
      run_on(shards_.loop(s), [&] {
        listener = std::make_unique<transport::Listener>(shards_.loop(s), ep, make_handler_(s));
        listener->start();
      });
      if (s == 0) ep = listener->local_endpoint();  // a port 0 becomes one port for all
      bound_.push_back({s, std::move(listener)});
    }
  }
}

void ListenerGroup::close(Deadline deadline) {
  for (auto& b : bound_) run_on(shards_.loop(b.shard), [&b] { b.listener->stop(); }, deadline);
}

std::string ListenerGroup::describe() const {
  std::string out;
  for (const auto& a : addresses_) out += fmt::format(" {} {}", kind_, a);
  return out;
}

}  // namespace tern::server
