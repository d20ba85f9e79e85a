// The control socket: a Unix socket in the data dir through which the `tern`
// command reaches a running server — `tern status`, and `tern user del`
// closing the deleted account's open sessions at once. One line in, one
// answer out; only the data dir's owner can connect (mode 0600).
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "core/asio.h"

namespace tern::server {

std::string control_socket_path(const std::string& data_dir);

// Serves commands on `loop`; `answer` maps a command line to its reply.
class ControlServer {
 public:
  ControlServer(asio::io_context& loop, const std::string& path,
                std::function<std::string(const std::string&)> answer);
  ~ControlServer();
  // Stops accepting and removes the socket file; call on the loop's thread.
  void close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Sends one command; nullopt when no server is listening.
std::optional<std::string> control_request(const std::string& path, const std::string& command);

}  // namespace tern::server
