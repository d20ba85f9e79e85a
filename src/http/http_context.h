// What the HTTP listeners need from the server: the client stream context
// (WebSocket and BOSH sessions are client streams), the [http] options and
// the BOSH sessions.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "http/file_route.h"
#include "stream/c2s_context.h"

namespace tern::http {

class BoshRegistry;

struct HttpContext {
  stream::C2SContext& c2s;
  std::filesystem::path web_root;
  // Listening addresses as configured, for the discovery documents.
  BoshRegistry* bosh = nullptr;
  // Renders /metrics (Prometheus text); empty function: 404.
  std::function<std::string()> metrics;
  // URL prefixes modules serve as files (HTTP upload).
  std::vector<FileRoute> file_routes;
};

// Serves one accepted HTTP connection (HTTPS when `tls`) on its shard.
void serve_http_connection(HttpContext& ctx, unsigned shard, tcp::socket socket, bool tls);

// Whether `ip` is listed (exact address match; "::1", "127.0.0.1").
bool is_listed(const std::vector<std::string>& addresses, const std::string& ip);

// Whether a request from `origin` (the Origin header) may use our endpoints:
// no Origin (not a browser), the page's own origin (same host and scheme),
// or one listed in http.allowed_origins ("*": any).
bool is_origin_allowed(const core::Config& config, std::string_view origin,
                       std::string_view host, bool tls);

}  // namespace tern::http
