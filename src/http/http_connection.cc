// The HTTP server: one coroutine per connection, keep-alive with bounded
// requests, header and body sizes and time; routes to the static page, the
// discovery documents, /metrics, WebSocket and BOSH. The only file that
// instantiates Beast's templates (for plain and TLS streams).
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <boost/beast/http/file_body.hpp>

#include <limits>
#include <fstream>
#include <iterator>

#include "core/log.h"
#include "core/percent_encoding.h"
#include "http/bosh.h"
#include "http/http_context.h"
#include "http/static_files.h"
#include "http/ws_session.h"
#include "transport/transport.h"

namespace tern::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace websocket = boost::beast::websocket;
using Request = bhttp::request<bhttp::string_body>;
using Response = bhttp::response<bhttp::string_body>;
using namespace std::chrono_literals;

namespace {

// Boost 1.74's Beast speaks boost::string_view.
std::string_view sv(boost::beast::string_view s) { return {s.data(), s.size()}; }
boost::beast::string_view bsv(std::string_view s) { return {s.data(), s.size()}; }

constexpr std::size_t kMaxHeaderBytes = 8192;
constexpr auto kFirstRequestTimeout = 30s;  // a slow client gets this long for a request
constexpr auto kKeepAliveTimeout = 60s;
constexpr auto kTlsHandshakeTimeout = 15s;
constexpr auto kWriteTimeout = 30s;
// How long and how much of a refused upload's body is read and dropped.
constexpr auto kLingerTime = 2s;
constexpr std::size_t kLingerBytes = 8u << 20;

// The page loads only its own scripts and styles (converse.js injects style
// attributes, hence 'unsafe-inline' for styles only) and talks only to us.
// 'wasm-unsafe-eval' lets converse.js compile its OMEMO library
// (libsignal as WebAssembly) without allowing eval() of script text.
constexpr std::string_view kPageCsp =
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; media-src 'self' data: blob:; font-src 'self' data:; "
    "connect-src 'self' ws: wss:; worker-src 'self' blob:; object-src 'none'; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

// The Host header when it is a plain host[:port], else our first domain:
// it goes into URLs we hand out.
std::string safe_host(const Request& req, const core::Config& config) {
  std::string host(req[bhttp::field::host]);
  if (host.empty() || host.size() > 255 ||
      host.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") !=
          std::string::npos)
    return config.domains.front();
  return host;
}

Response make_response(const Request& req, bhttp::status status, std::string_view type,
                       std::string body) {
  Response res{status, req.version()};
  res.set(bhttp::field::server, "tern");
  res.set(bhttp::field::content_type, bsv(type));
  res.set("X-Content-Type-Options", "nosniff");
  res.set("Referrer-Policy", "no-referrer");
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

Response error_response(const Request& req, bhttp::status status) {
  std::string body = std::to_string(static_cast<unsigned>(status)) + " " +
                     std::string(bhttp::obsolete_reason(status)) + "\n";
  return make_response(req, status, "text/plain; charset=utf-8", std::move(body));
}

void allow_cors(Response& res, std::string_view origin) {
  if (origin.empty()) return;
  res.set(bhttp::field::access_control_allow_origin, bsv(origin));
  res.set(bhttp::field::vary, "Origin");
}

Response host_meta(const Request& req, const HttpContext& ctx, bool tls, bool json) {
  std::string host = safe_host(req, ctx.c2s.config);
  std::string bosh = std::string(tls ? "https://" : "http://") + host + "/http-bind";
  std::string ws = std::string(tls ? "wss://" : "ws://") + host + "/xmpp-websocket";
  std::string body;
  if (json) {
    body = "{\"links\":[{\"rel\":\"urn:xmpp:alt-connections:xbosh\",\"href\":\"" + bosh +
           "\"},{\"rel\":\"urn:xmpp:alt-connections:websocket\",\"href\":\"" + ws + "\"}]}\n";
  } else {
    body = "<?xml version='1.0' encoding='utf-8'?>\n"
           "<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'>\n"
           "  <Link rel='urn:xmpp:alt-connections:xbosh' href='" + bosh + "'/>\n"
           "  <Link rel='urn:xmpp:alt-connections:websocket' href='" + ws + "'/>\n"
           "</XRD>\n";
  }
  auto res = make_response(req, bhttp::status::ok,
                           json ? "application/json" : "application/xrd+xml; charset=utf-8",
                           std::move(body));
  // Discovery is public: any page may read it (XEP-0156 §3).
  res.set(bhttp::field::access_control_allow_origin, "*");
  res.set(bhttp::field::cache_control, "public, max-age=3600");
  return res;
}

// What the page needs to know of this server, as a script (no inline script
// in the page, so the CSP can forbid them).
Response page_config(const Request& req, const HttpContext& ctx) {
  std::string domain = ctx.c2s.config.domains.front();
  auto res = make_response(req, bhttp::status::ok, "text/javascript; charset=utf-8",
                           "window.TERN = {\"domain\": \"" + domain + "\"};\n");
  res.set(bhttp::field::cache_control, "no-cache");
  return res;
}

Response static_file(const Request& req, const HttpContext& ctx) {
  auto file = resolve_static(ctx.web_root, sv(req.target()));
  if (!file) return error_response(req, bhttp::status::not_found);
  std::ifstream in(*file, std::ios::binary);
  if (!in) return error_response(req, bhttp::status::not_found);
  std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto res = make_response(req, bhttp::status::ok, content_type_of(*file), std::move(body));
  res.set(bhttp::field::cache_control, bsv(cache_control_of(*file)));
  if (file->extension() == ".html") {
    res.set("Content-Security-Policy", bsv(kPageCsp));
    res.set("X-Frame-Options", "DENY");
  }
  if (req.method() == bhttp::verb::head) {
    res.body().clear();
    res.content_length(std::filesystem::file_size(*file));
  }
  return res;
}

bool has_token(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    auto comma = list.find(',');
    auto item = list.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item == token) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

// RFC 5987 / 6266: the filename of a served file, percent-encoded UTF-8.
std::string content_disposition_of(const ServedFile& file) {
  const std::string_view type = file.content_type;
  // Media and plain text show in the browser (and in the clients' previews);
  // anything else is a download, so an HTML or SVG upload is never a page
  // of ours.
  const bool shown = type.substr(0, 6) == "image/" || type.substr(0, 6) == "audio/" ||
                     type.substr(0, 6) == "video/" || type.substr(0, 10) == "text/plain";
  std::string out = shown ? "inline" : "attachment";
  if (file.filename.empty()) return out;
  // RFC 6266 §4.3 / RFC 8187: the name as UTF-8, percent-encoded.
  out += "; filename*=UTF-8''" + core::percent_encode(file.filename);
  return out;
}

void set_file_headers(bhttp::response_header<>& res, const ServedFile& file, const FileRoute& route) {
  res.set(bhttp::field::server, "tern");
  res.set(bhttp::field::content_type, bsv(file.content_type));
  res.set(bhttp::field::content_disposition, bsv(content_disposition_of(file)));
  res.set("X-Content-Type-Options", "nosniff");
  // An uploaded file is data, never a page: nothing in it may run or load.
  res.set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; sandbox");
  res.set("Referrer-Policy", "no-referrer");
  res.set(bhttp::field::cache_control, bsv(route.cache_control));
}

// --- WebSocket ----------------------------------------------------------

template <class Stream>
class WsLinkImpl final : public WsLink {
 public:
  WsLinkImpl(websocket::stream<Stream> ws, bool tls,
             std::unique_ptr<transport::ChannelBindings> bindings)
      : ws_(std::move(ws)), tls_(tls), bindings_(std::move(bindings)) {}

  awaitable<bool> read_message(std::string& out) override {
    co_await ws_.async_read(buffer_, use_awaitable);
    out = beast::buffers_to_string(buffer_.data());
    buffer_.consume(buffer_.size());
    // An idle connection keeps no buffer from its largest message.
    if (buffer_.capacity() > 4096) buffer_.shrink_to_fit();
    co_return ws_.got_text();
  }
  awaitable<void> write_message(std::string_view text) override {
    ws_.text(true);
    co_await ws_.async_write(asio::buffer(text.data(), text.size()), use_awaitable);
  }
  awaitable<void> close(std::uint16_t code) override {
    boost::system::error_code ec;
    co_await ws_.async_close(websocket::close_reason(code), asio::redirect_error(use_awaitable, ec));
  }
  void abort() override {
    boost::system::error_code ec;
    beast::get_lowest_layer(ws_).socket().shutdown(tcp::socket::shutdown_both, ec);
    beast::get_lowest_layer(ws_).close();
  }
  bool is_tls() const override { return tls_; }
  const transport::ChannelBindings* channel_bindings() const override { return bindings_.get(); }
  void forget_channel_bindings() override { bindings_.reset(); }

 private:
  websocket::stream<Stream> ws_;
  beast::flat_buffer buffer_;
  bool tls_;
  std::unique_ptr<transport::ChannelBindings> bindings_;
};

template <class Stream>
std::unique_ptr<transport::ChannelBindings> bindings_of(Stream&) {
  return nullptr;
}
template <>
std::unique_ptr<transport::ChannelBindings> bindings_of(beast::ssl_stream<beast::tcp_stream>& s) {
  return std::make_unique<transport::ChannelBindings>(transport::channel_bindings(s.native_handle()));
}

// --- the connection -------------------------------------------------------

template <class Stream>
class HttpConnection {
 public:
  HttpConnection(HttpContext& ctx, unsigned shard, Stream stream, std::string peer, bool tls)
      : ctx_(ctx), shard_(shard), stream_(std::move(stream)), peer_(std::move(peer)), tls_(tls) {}

  awaitable<void> run() {
    try {
      if constexpr (!std::is_same_v<Stream, beast::tcp_stream>) {
        beast::get_lowest_layer(stream_).expires_after(kTlsHandshakeTimeout);
        co_await stream_.async_handshake(asio::ssl::stream_base::server, use_awaitable);
      }
      co_await serve_requests();
    } catch (const boost::system::system_error& e) {
      spdlog::debug("http {}: {}", peer_, e.code().message());
    }
  }

 private:
  awaitable<void> serve_requests() {
    const auto max_requests = ctx_.c2s.config.http_requests_per_connection;
    const auto max_body = static_cast<std::uint64_t>(ctx_.c2s.config.http_max_body_bytes);
    for (std::int64_t n = 0; n < max_requests; ++n) {
      // The header first: a routed PUT (a file upload) reads its body into
      // a file with the slot's own size limit, everything else into memory.
      bhttp::request_parser<bhttp::empty_body> header_parser;
      header_parser.header_limit(kMaxHeaderBytes);
      // Checked below, per kind of request. Not boost::none: Beast 1.74
      // compares a Content-Length with it as an optional, and any length
      // is "greater" than none.
      header_parser.body_limit(std::numeric_limits<std::uint64_t>::max());
      beast::get_lowest_layer(stream_).expires_after(n == 0 ? kFirstRequestTimeout : kKeepAliveTimeout);
      boost::system::error_code ec;
      co_await bhttp::async_read_header(stream_, buffer_, header_parser,
                                        asio::redirect_error(use_awaitable, ec));
      if (ec) co_return co_await refuse_read(ec, header_parser.got_some());
      const auto& head = header_parser.get();
      std::string_view target = sv(head.target());
      std::string_view path = target.substr(0, target.find('?'));
      const FileRoute* route = route_of(path);
      if (route && head.method() == bhttp::verb::put) {
        if (!co_await receive_file(*route, path, header_parser)) co_return;
        continue;
      }
      if (auto length = header_parser.content_length(); length && *length > max_body) {
        co_await write_and_close(bhttp::status::payload_too_large);
        co_return;
      }
      bhttp::request_parser<bhttp::string_body> parser(std::move(header_parser));
      parser.body_limit(max_body);
      co_await bhttp::async_read(stream_, buffer_, parser, asio::redirect_error(use_awaitable, ec));
      if (ec) co_return co_await refuse_read(ec, true);
      Request req = parser.release();
      if (websocket::is_upgrade(req)) co_return co_await upgrade(std::move(req));
      if (route) {
        const bool keep_alive = co_await serve_file(*route, req, path, n + 1 < max_requests);
        if (!keep_alive) co_return shutdown();
        continue;
      }
      Response res = co_await respond(req);
      if (n + 1 == max_requests) res.keep_alive(false);
      co_await write(res);
      if (!res.keep_alive()) co_return shutdown();
    }
  }

  // Answers a request that could not be read (when there is anyone to
  // answer) and ends the connection.
  awaitable<void> refuse_read(boost::system::error_code ec, bool got_some) {
    if (ec == bhttp::error::header_limit)
      co_return co_await write_and_close(bhttp::status::request_header_fields_too_large);
    if (ec == bhttp::error::body_limit)
      co_return co_await write_and_close(bhttp::status::payload_too_large);
    if (ec == beast::error::timeout && got_some)
      co_return co_await write_and_close(bhttp::status::request_timeout);
    if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout) co_return shutdown();
    if (ec != asio::error::eof && ec != asio::error::connection_reset)
      co_await write_and_close(bhttp::status::bad_request);
  }

  const FileRoute* route_of(std::string_view path) const {
    for (const auto& route : ctx_.file_routes)
      if (path.substr(0, route.prefix.size()) == route.prefix) return &route;
    return nullptr;
  }

  // --- files of a FileRoute (HTTP upload) ---------------------------------

  // A PUT into a slot: authorised on its header, its body streamed into the
  // slot's temporary file (exactly the slot's size), then handed to the
  // module, which moves it into place. Returns whether the connection goes on.
  awaitable<bool> receive_file(const FileRoute& route, std::string_view path_view,
                               bhttp::request_parser<bhttp::empty_body>& header_parser) {
    const auto& head = header_parser.get();
    std::string path(path_view);
    std::string origin(sv(head[bhttp::field::origin]));
    Request shell;  // what the error responses need of the request
    shell.version(head.version());
    if (!is_origin_allowed(ctx_.c2s.config, origin, sv(head[bhttp::field::host]), tls_)) {
      co_await write_file_status(shell, bhttp::status::forbidden, origin, false);
      co_return false;
    }
    FilePut put{path, std::nullopt, sv(head[bhttp::field::content_type]),
                sv(head[bhttp::field::authorization])};
    if (auto length = header_parser.content_length()) put.content_length = *length;
    const FilePutDecision decision = route.authorise_put(put);
    if (decision.status != 0) {
      // The body (if any) is not read: the connection ends after the answer.
      co_await write_file_status(shell, static_cast<bhttp::status>(decision.status), origin, false);
      co_return false;
    }
    bhttp::request_parser<bhttp::file_body> parser(std::move(header_parser));
    parser.body_limit(decision.size);
    boost::system::error_code ec;
    parser.get().body().open(decision.temp_file.c_str(), beast::file_mode::write, ec);
    if (ec) {
      spdlog::error("http upload: cannot create {}: {}", decision.temp_file.string(), ec.message());
      route.finish_put(path, decision.temp_file, false);
      co_await write_file_status(shell, bhttp::status::internal_server_error, origin, false);
      co_return false;
    }
    if (has_token(sv(parser.get()[bhttp::field::expect]), "100-continue")) {
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      beast::get_lowest_layer(stream_).expires_after(kWriteTimeout);
      co_await asio::async_write(stream_, asio::buffer(kContinue.data(), kContinue.size()),
                                 asio::redirect_error(use_awaitable, ec));
      if (ec) {
        parser.get().body().close();
        route.finish_put(path, decision.temp_file, false);
        co_return false;
      }
    }
    // An idle timeout, not a deadline: a large file on a slow link takes
    // as long as it takes while bytes keep coming.
    std::uint64_t received = 0;
    while (!ec && !parser.is_done()) {
      beast::get_lowest_layer(stream_).expires_after(kFirstRequestTimeout);
      received += co_await bhttp::async_read_some(stream_, buffer_, parser,
                                                  asio::redirect_error(use_awaitable, ec));
    }
    parser.get().body().close();
    bhttp::status status;
    if (!ec && parser.is_done()) {
      status = static_cast<bhttp::status>(route.finish_put(path, decision.temp_file, true));
    } else {
      route.finish_put(path, decision.temp_file, false);
      if (ec == bhttp::error::body_limit) {
        status = bhttp::status::payload_too_large;
      } else if (ec == boost::system::errc::no_space_on_device ||
                 ec == boost::system::errc::file_too_large) {
        status = bhttp::status::insufficient_storage;
      } else if (ec.category() == boost::system::system_category() &&
                 ec != asio::error::eof && ec != asio::error::connection_reset &&
                 ec != asio::error::operation_aborted && ec != beast::error::timeout) {
        // The file could not be written (the socket errors are above).
        spdlog::error("http upload: writing {} failed: {}", decision.temp_file.string(), ec.message());
        status = bhttp::status::internal_server_error;
      } else {
        status = bhttp::status::bad_request;  // a short or broken body
      }
      spdlog::info("http {}: upload to {} failed after {} bytes: {}", peer_, path, received,
                   ec.message());
      co_await write_file_status(shell, status, origin, false);
      co_return false;
    }
    const bool keep_alive = status == bhttp::status::created && parser.get().keep_alive();
    co_await write_file_status(shell, status, origin, keep_alive);
    co_return keep_alive;
  }

  awaitable<void> write_file_status(const Request& shell, bhttp::status status,
                                    std::string_view origin, bool keep_alive) {
    Response res = status == bhttp::status::created
                       ? make_response(shell, status, "text/plain; charset=utf-8", {})
                       : error_response(shell, status);
    res.keep_alive(keep_alive);
    allow_cors(res, origin);
    boost::system::error_code ec;
    beast::get_lowest_layer(stream_).expires_after(kWriteTimeout);
    co_await bhttp::async_write(stream_, res, asio::redirect_error(use_awaitable, ec));
    if (!keep_alive && !ec) co_await linger();
  }

  // A refused upload's body may still be on its way: closing with unread
  // bytes sends a reset that can destroy our answer before the client reads
  // it. So: no more writes, then read and drop what comes, for a while.
  awaitable<void> linger() {
    shutdown();
    boost::system::error_code ec;
    std::size_t dropped = 0;
    char scratch[16384];
    const auto until = std::chrono::steady_clock::now() + kLingerTime;
    while (!ec && dropped < kLingerBytes && std::chrono::steady_clock::now() < until) {
      beast::get_lowest_layer(stream_).expires_after(kLingerTime);
      dropped += co_await beast::get_lowest_layer(stream_).async_read_some(
          asio::buffer(scratch), asio::redirect_error(use_awaitable, ec));
    }
  }

  // GET, HEAD and the CORS preflight of a routed path. Returns whether the
  // connection goes on.
  awaitable<bool> serve_file(const FileRoute& route, const Request& req, std::string_view path,
                             bool may_keep_alive) {
    std::string_view origin = sv(req[bhttp::field::origin]);
    const bool origin_ok = is_origin_allowed(ctx_.c2s.config, origin, sv(req[bhttp::field::host]), tls_);
    const bool keep_alive = may_keep_alive && req.keep_alive();
    const auto method = req.method();
    if (method == bhttp::verb::options) {
      Response res = origin_ok ? make_response(req, bhttp::status::no_content, "text/plain", {})
                               : error_response(req, bhttp::status::forbidden);
      if (origin_ok) {
        allow_cors(res, origin);
        res.set(bhttp::field::access_control_allow_methods, "GET, HEAD, PUT, OPTIONS");
        res.set(bhttp::field::access_control_allow_headers, "Authorization, Content-Type");
        res.set(bhttp::field::access_control_max_age, "86400");
      }
      res.keep_alive(keep_alive);
      co_await write(res);
      co_return keep_alive;
    }
    std::optional<ServedFile> found;
    if (method == bhttp::verb::get || method == bhttp::verb::head) found = route.find_file(path);
    bhttp::response<bhttp::file_body> res{bhttp::status::ok, req.version()};
    boost::system::error_code ec;
    if (found) res.body().open(found->file.c_str(), beast::file_mode::scan, ec);
    if (!found || ec) {
      Response err = error_response(req, method == bhttp::verb::get || method == bhttp::verb::head
                                             ? bhttp::status::not_found
                                             : bhttp::status::method_not_allowed);
      if (err.result() == bhttp::status::method_not_allowed)
        err.set(bhttp::field::allow, "GET, HEAD, PUT, OPTIONS");
      if (origin_ok) allow_cors(err, origin);
      err.keep_alive(keep_alive);
      co_await write(err);
      co_return keep_alive;
    }
    set_file_headers(res, *found, route);
    if (origin_ok) {
      res.set(bhttp::field::access_control_allow_origin, bsv(origin));
      res.set(bhttp::field::vary, "Origin");
    }
    res.keep_alive(keep_alive);
    beast::get_lowest_layer(stream_).expires_after(kWriteTimeout);
    if (method == bhttp::verb::head) {
      bhttp::response<bhttp::empty_body> head{static_cast<bhttp::response_header<>&>(res)};
      head.content_length(found->size);
      co_await bhttp::async_write(stream_, head, use_awaitable);
    } else {
      res.prepare_payload();
      // A large file takes longer than one write timeout: the serializer
      // goes piece by piece, each piece with its own timeout.
      bhttp::response_serializer<bhttp::file_body> serializer(res);
      while (!serializer.is_done()) {
        beast::get_lowest_layer(stream_).expires_after(kWriteTimeout);
        co_await bhttp::async_write_some(stream_, serializer, use_awaitable);
      }
    }
    co_return keep_alive;
  }

  awaitable<Response> respond(const Request& req) {
    std::string_view target(req.target().data(), req.target().size());
    std::string_view path = target.substr(0, target.find('?'));
    std::string_view origin(req[bhttp::field::origin].data(), req[bhttp::field::origin].size());
    const auto method = req.method();
    if (path == "/http-bind") {
      if (!is_origin_allowed(ctx_.c2s.config, origin, sv(req[bhttp::field::host]), tls_))
        co_return error_response(req, bhttp::status::forbidden);
      Response res;
      if (method == bhttp::verb::options) {
        res = make_response(req, bhttp::status::no_content, "text/plain", {});
        res.set(bhttp::field::access_control_allow_methods, "POST, OPTIONS");
        res.set(bhttp::field::access_control_allow_headers, "Content-Type");
        res.set(bhttp::field::access_control_max_age, "86400");
      } else if (method != bhttp::verb::post || !ctx_.bosh) {
        res = error_response(req, bhttp::status::method_not_allowed);
        res.set(bhttp::field::allow, "POST, OPTIONS");
      } else {
        auto reply = co_await ctx_.bosh->handle(shard_, req.body(), peer_, is_confidential());
        res = make_response(req, reply.status == 200 ? bhttp::status::ok
                                                     : static_cast<bhttp::status>(reply.status),
                            "text/xml; charset=utf-8", std::move(reply.body));
        res.set(bhttp::field::cache_control, "no-store");
      }
      allow_cors(res, origin);
      co_return res;
    }
    if (method != bhttp::verb::get && method != bhttp::verb::head) {
      auto res = error_response(req, bhttp::status::method_not_allowed);
      res.set(bhttp::field::allow, "GET, HEAD");
      co_return res;
    }
    if (path == "/.well-known/host-meta") co_return host_meta(req, ctx_, tls_, false);
    if (path == "/.well-known/host-meta.json") co_return host_meta(req, ctx_, tls_, true);
    if (path == "/metrics") {
      if (!is_listed(ctx_.c2s.config.http_metrics_addresses, peer_))
        co_return error_response(req, bhttp::status::forbidden);
      if (!ctx_.metrics) co_return error_response(req, bhttp::status::not_found);
      auto res = make_response(req, bhttp::status::ok, "text/plain; version=0.0.4; charset=utf-8",
                               ctx_.metrics());
      res.set(bhttp::field::cache_control, "no-store");
      co_return res;
    }
    if (path == "/tern-config.js") co_return page_config(req, ctx_);
    if (path == "/xmpp-websocket") co_return error_response(req, bhttp::status::upgrade_required);
    co_return static_file(req, ctx_);
  }

  bool is_confidential() const { return tls_ || is_listed(ctx_.c2s.config.http_trusted_addresses, peer_); }

  awaitable<void> upgrade(Request req) {
    std::string_view target(req.target().data(), req.target().size());
    if (target.substr(0, target.find('?')) != "/xmpp-websocket") {
      co_return co_await write_and_close(bhttp::status::not_found, &req);
    }
    std::string_view origin(req[bhttp::field::origin].data(), req[bhttp::field::origin].size());
    if (!is_origin_allowed(ctx_.c2s.config, origin, sv(req[bhttp::field::host]), tls_)) {
      spdlog::info("http {}: WebSocket from origin '{}' refused", peer_, origin);
      co_return co_await write_and_close(bhttp::status::forbidden, &req);
    }
    // RFC 7395 §3.1: the client must ask for the "xmpp" subprotocol.
    if (!has_token(sv(req[bhttp::field::sec_websocket_protocol]), "xmpp")) {
      spdlog::info("http {}: WebSocket without the xmpp subprotocol refused", peer_);
      co_return co_await write_and_close(bhttp::status::bad_request, &req);
    }
    auto bindings = bindings_of(stream_);
    beast::get_lowest_layer(stream_).expires_never();
    websocket::stream<Stream> ws(std::move(stream_));
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = 10s;
    timeouts.idle_timeout = 120s;  // pings go out at half of it
    timeouts.keep_alive_pings = true;
    ws.set_option(timeouts);
    ws.set_option(websocket::stream_base::decorator([](websocket::response_type& res) {
      res.set(bhttp::field::server, "tern");
      res.set(bhttp::field::sec_websocket_protocol, "xmpp");
    }));
    ws.read_message_max(static_cast<std::size_t>(ctx_.c2s.config.max_stanza_bytes) + 1024);
    ws.auto_fragment(false);
    co_await ws.async_accept(req, use_awaitable);
    auto executor = ws.get_executor();
    auto link = std::make_unique<WsLinkImpl<Stream>>(std::move(ws), tls_, std::move(bindings));
    WsSession::start(ctx_.c2s, shard_, executor, std::move(link), peer_, is_confidential());
  }

  awaitable<void> write(Response& res) {
    beast::get_lowest_layer(stream_).expires_after(kWriteTimeout);
    co_await bhttp::async_write(stream_, res, use_awaitable);
  }

  awaitable<void> write_and_close(bhttp::status status, const Request* req = nullptr) {
    Request empty;
    Response res = error_response(req ? *req : empty, status);
    res.keep_alive(false);
    boost::system::error_code ec;
    beast::get_lowest_layer(stream_).expires_after(kWriteTimeout);
    co_await bhttp::async_write(stream_, res, asio::redirect_error(use_awaitable, ec));
    shutdown();
  }

  void shutdown() {
    boost::system::error_code ec;
    beast::get_lowest_layer(stream_).socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  HttpContext& ctx_;
  unsigned shard_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::string peer_;
  bool tls_;
};

}  // namespace

bool is_listed(const std::vector<std::string>& addresses, const std::string& ip) {
  return std::find(addresses.begin(), addresses.end(), ip) != addresses.end();
}

bool is_origin_allowed(const core::Config& config, std::string_view origin, std::string_view host,
                       bool tls) {
  if (origin.empty()) return true;
  for (const auto& allowed : config.http_allowed_origins)
    if (allowed == "*" || allowed == origin) return true;
  std::string own = std::string(tls ? "https://" : "http://") + std::string(host);
  return origin == own;
}

void serve_http_connection(HttpContext& ctx, unsigned shard, tcp::socket socket, bool tls) {
  std::string peer = transport::peer_address(socket);
  auto executor = socket.get_executor();
  if (tls) {
    if (!ctx.c2s.tls) return;
    using TlsStream = beast::ssl_stream<beast::tcp_stream>;
    auto conn = std::make_shared<HttpConnection<TlsStream>>(
        ctx, shard, TlsStream(beast::tcp_stream(std::move(socket)), *ctx.c2s.tls), std::move(peer), tls);
    asio::co_spawn(executor, [conn] { return conn->run(); }, asio::detached);
  } else {
    auto conn = std::make_shared<HttpConnection<beast::tcp_stream>>(
        ctx, shard, beast::tcp_stream(std::move(socket)), std::move(peer), tls);
    asio::co_spawn(executor, [conn] { return conn->run(); }, asio::detached);
  }
}

}  // namespace tern::http
