// The control socket: a Unix socket in the data dir through which the `tern`
// command reaches a running server — `tern status`, and `tern user del`
// deleting the account in the server, which tells its contacts and closes
// its sessions. One line in, one
// answer out; only the data dir's owner can connect (mode 0600).
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "core/asio.h"

namespace tern::server {

std::string control_socket_path(const std::string& data_dir);

// Maps a command line to its reply, on the loop the server serves on.
using ControlAnswer = std::function<awaitable<std::string>(std::string command)>;

// Serves commands on `loop`.
class ControlServer {
 public:
  ControlServer(asio::io_context& loop, const std::string& path, ControlAnswer answer);
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
