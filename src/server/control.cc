#include "server/control.h"

#include <sys/stat.h>

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <filesystem>

#include "core/log.h"

namespace tern::server {
namespace {
using local = asio::local::stream_protocol;
constexpr std::size_t kMaxCommand = 4096;
}  // namespace

std::string control_socket_path(const std::string& data_dir) { return data_dir + "/tern.sock"; }

struct ControlServer::Impl {
  local::acceptor acceptor;
  std::string path;
  ControlAnswer answer;

  Impl(asio::io_context& loop, std::string p) : acceptor(loop), path(std::move(p)) {}

  awaitable<void> serve_one(local::socket s) {
    try {
      std::string line;
      co_await asio::async_read_until(s, asio::dynamic_buffer(line, kMaxCommand), '\n',
                                      use_awaitable);
      line.resize(line.find('\n'));
      auto answering = answer(line);  // built outside the co_await (GCC 12)
      std::string reply = co_await std::move(answering);
      reply += "\n";
      co_await asio::async_write(s, asio::buffer(reply), use_awaitable);
    } catch (const std::exception& e) {
      spdlog::debug("control: {}", e.what());
    }
  }

  awaitable<void> accept_loop() {
    for (;;) {
      boost::system::error_code ec;
      local::socket s = co_await acceptor.async_accept(asio::redirect_error(use_awaitable, ec));
      if (ec) co_return;
      asio::co_spawn(acceptor.get_executor(), serve_one(std::move(s)), asio::detached);
    }
  }
};

ControlServer::ControlServer(asio::io_context& loop, const std::string& path,
                             ControlAnswer answer)
    : impl_(std::make_unique<Impl>(loop, path)) {
  impl_->answer = std::move(answer);
  // A stale socket from a crashed run would refuse the bind.
  if (!control_request(path, "ping")) std::filesystem::remove(path);
  impl_->acceptor.open(local());
  impl_->acceptor.bind(local::endpoint(path));
  ::chmod(path.c_str(), S_IRUSR | S_IWUSR);
  impl_->acceptor.listen();
  asio::co_spawn(loop, impl_->accept_loop(), asio::detached);
}

ControlServer::~ControlServer() { close(); }

void ControlServer::close() {
  if (!impl_->acceptor.is_open()) return;
  boost::system::error_code ec;
  impl_->acceptor.close(ec);
  std::error_code fs_ec;
  std::filesystem::remove(impl_->path, fs_ec);
}

std::optional<std::string> control_request(const std::string& path, const std::string& command) {
  if (!std::filesystem::exists(path)) return std::nullopt;
  try {
    asio::io_context io;
    local::socket s(io);
    s.connect(local::endpoint(path));
    std::string line = command + "\n";
    asio::write(s, asio::buffer(line));
    std::string reply;
    boost::system::error_code ec;
    asio::read_until(s, asio::dynamic_buffer(reply), '\n', ec);
    if (reply.empty()) return std::nullopt;
    if (reply.back() == '\n') reply.pop_back();
    return reply;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace tern::server
