#include "transport/listener.h"

#include <stdexcept>

#include "core/log.h"

namespace tern::transport {

tcp::endpoint parse_endpoint(const std::string& address) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos) throw std::runtime_error("listen address needs a port: " + address);
  std::string host = address.substr(0, colon);
  int port = std::stoi(address.substr(colon + 1));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host == "localhost") host = "127.0.0.1";
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(host, ec);
  if (ec) throw std::runtime_error("bad listen address: " + address);
  return {addr, static_cast<unsigned short>(port)};
}

Listener::Listener(asio::io_context& loop, const tcp::endpoint& ep, AcceptHandler on_accept)
    : acceptor_(loop), on_accept_(std::move(on_accept)) {
  acceptor_.open(ep.protocol());
  acceptor_.set_option(tcp::acceptor::reuse_address(true));
  int one = 1;
  ::setsockopt(acceptor_.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  if (ep.address().is_v6()) {
    // "[::]" serves IPv4 too, like every other server people know.
    acceptor_.set_option(asio::ip::v6_only(false));
  }
  acceptor_.bind(ep);
  acceptor_.listen(4096);
}

void Listener::start() {
  asio::co_spawn(acceptor_.get_executor(), accept_loop(), asio::detached);
}

void Listener::stop() {
  boost::system::error_code ec;
  acceptor_.close(ec);
}

awaitable<void> Listener::accept_loop() {
  for (;;) {
    boost::system::error_code ec;
    tcp::socket s = co_await acceptor_.async_accept(asio::redirect_error(use_awaitable, ec));
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
    if (ec) {
      // EMFILE and friends: back off a little instead of spinning.
      spdlog::warn("accept: {}", ec.message());
      asio::steady_timer t(acceptor_.get_executor(), std::chrono::milliseconds(100));
      co_await t.async_wait(asio::redirect_error(use_awaitable, ec));
      continue;
    }
    on_accept_(std::move(s));
  }
}

}  // namespace tern::transport
