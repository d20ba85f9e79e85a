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

// [modules.upload], and what is fixed.
struct UploadConfig {
  std::string domain = "upload.{domain}";  // per local domain, see service_domain()
  std::string base_url;  // see base_url_of()
  std::string path;      // empty: <data_dir>/uploads
  std::uint64_t max_file_bytes = 100ull << 20;
  std::uint64_t quota_bytes = 1ull << 30;  // per account; 0: none
  std::chrono::seconds slot_lifetime{300};
  int expire_days = 30;  // 0: never
  std::size_t max_open_slots = 100;  // per account
};
inline constexpr OptionField<UploadConfig> kUploadOptions[] = {
    option("domain", &UploadConfig::domain,
           "Where the HTTP file upload service (XEP-0363) of each local domain lives ({domain}: "
           "that domain)"),
    option("base_url", &UploadConfig::base_url,
           "Public URL of Tern's HTTP listener that upload URLs start with "
           "(\"https://files.example.org\"); empty: the first listen.https (else listen.http) "
           "address, with the domain as host"),
    option("path", &UploadConfig::path, "Directory of the uploaded files; empty: <data_dir>/uploads"),
    option("max_file_bytes", &UploadConfig::max_file_bytes, 1, 1ll << 40,
           "Largest file one upload may be (100 MiB)"),
    option("quota_bytes", &UploadConfig::quota_bytes, 0, 1ll << 50,
           "Bytes one account's uploads may take together, open slots included (1 GiB); 0: no quota"),
    option("slot_seconds", &UploadConfig::slot_lifetime, 1, 86400,
           "Seconds a slot may be used for its one PUT"),
    option("expire_days", &UploadConfig::expire_days, 0, 36500,
           "Days an upload is kept (0: until its account is deleted); checked hourly"),
};

// The base of the URLs handed out: `base_url` when given (trailing '/'
// dropped), else the first listen.https address (or listen.http) with
// `domain` as the host. Empty: nowhere to upload to.
std::string base_url_of(const std::string& base_url, const core::ListenConfig& listen,
                        const std::string& domain);

std::unique_ptr<Module> start_upload(ModuleContext& ctx);

}  // namespace tern::modules::upload
