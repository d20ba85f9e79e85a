// XEP-0092 software version, answered for the server's domain only: an iq
// to a full JID reaches that client, which answers for itself.
#include "modules/version/version.h"

#include <sys/utsname.h>

#include "modules/options.h"

namespace tern::modules {
namespace version {

xml::Element version_result(std::string_view name, std::string_view version, std::string_view os) {
  xml::Element query("query", std::string(kNs));
  query.add_child("name").add_text(name);
  query.add_child("version").add_text(version);
  if (!os.empty()) query.add_child("os").add_text(os);
  return query;
}

std::string os_name() {
  struct utsname u {};
  if (::uname(&u) != 0) return {};
  return u.sysname;
}

}  // namespace version

namespace {

struct VersionOptions {
  bool show_os = true;
};
constexpr OptionField<VersionOptions> kVersionOptions[] = {
    option("show_os", &VersionOptions::show_os,
           "The software version answer (XEP-0092) names the operating system"),
};

}  // namespace

std::unique_ptr<Module> start_version(ModuleContext& ctx) {
  const auto opts = read_options("version", ctx.options, kVersionOptions);
  // The answer never changes while the server runs: build it once.
  const std::string os = opts.show_os ? version::os_name() : std::string();
  auto answer = version::version_result(version::kName, version::kVersion, os);

  auto m = std::make_unique<Module>();
  m->tokens.push_back(ctx.serve_iq_sync(
      {router::IqTarget::kServer, router::IqType::kGet, version::kNs, "query", Advertise::kOnServer},
      [answer](const router::IqRequest&) { return router::IqReply::result(answer); }));
  return m;
}

TERN_MODULE("version", "XEP-0092 software version", &start_version, 50, kVersionOptions);

}  // namespace tern::modules
