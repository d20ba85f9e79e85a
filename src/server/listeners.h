// Listening sockets, one kind at a time ("c2s", "c2s_tls"; later "http"):
// each address of a kind is bound once per shard (SO_REUSEPORT), so the
// kernel spreads connections over the shards and an accepted connection
// lives on the shard that accepted it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/shards.h"
#include "server/steps.h"
#include "transport/listener.h"

namespace tern::server {

// What a kind does with a connection accepted on `shard`.
using MakeAcceptHandler = std::function<transport::AcceptHandler(unsigned shard)>;

class ListenerGroup {
 public:
  ListenerGroup(core::Shards& shards, std::string kind, std::vector<std::string> addresses,
                MakeAcceptHandler make_handler);
  ~ListenerGroup();
  // Binds every address on every shard (each on its own shard's thread) and
  // starts accepting. Throws when an address is bad or its port is taken.
  // A port 0 becomes one port, the same for every shard.
  void open();
  // Stops accepting; connections already accepted go on.
  void close(Deadline deadline);
  // " c2s 127.0.0.1:5222 ..." for the "tern ready:" line.
  std::string describe() const;

 private:
  struct Bound {
    unsigned shard;
    std::unique_ptr<transport::Listener> listener;
  };
  core::Shards& shards_;
  std::string kind_;
  std::vector<std::string> addresses_;
  MakeAcceptHandler make_handler_;
  std::vector<Bound> bound_;
};

}  // namespace tern::server
