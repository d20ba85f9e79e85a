// XEP-0363 HTTP File Upload: a service at upload.<domain> hands local
// accounts upload slots; the files go through the server's own HTTP
// listeners (a FileRoute under /upload/) into <data_dir>/uploads.
// docs/upload.md says what happens to an upload on a stop, a kill and a
// full disk.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "core/config.h"
#include "modules/module.h"

namespace tern::modules::upload {

struct UploadConfig {
  std::uint64_t max_file_bytes = 100ull << 20;
  std::uint64_t quota_bytes = 1ull << 30;  // per account; 0: none
  std::chrono::seconds slot_lifetime{300};
  int expire_days = 30;  // 0: never
  std::size_t max_open_slots = 100;  // per account
};

// The base of the URLs handed out: `base_url` when given (trailing '/'
// dropped), else the first listen.https address (or listen.http) with
// `domain` as the host. Empty: nowhere to upload to.
std::string base_url_of(const std::string& base_url, const core::ListenConfig& listen,
                        const std::string& domain);

std::unique_ptr<Module> start_upload(ModuleContext& ctx);

}  // namespace tern::modules::upload
