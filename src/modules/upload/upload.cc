#include "modules/upload/upload.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <mutex>

#include "modules/adhoc/data_form.h"
#include "modules/options.h"
#include "modules/upload/file_store.h"
#include "modules/upload/protocol.h"
#include "sasl/mechanism.h"
#include "xmpp/datetime.h"
#include "xmpp/jid.h"

namespace tern::modules::upload {
namespace {

http::FilePutDecision refused(int status) {
  http::FilePutDecision d;
  d.status = status;
  return d;
}

using xmpp::ErrorType;
using xmpp::StanzaCondition;
using xmpp::StanzaError;
using SystemClock = std::chrono::system_clock;

constexpr std::string_view kInfoNs = "http://jabber.org/protocol/disco#info";
constexpr std::string_view kItemsNs = "http://jabber.org/protocol/disco#items";
constexpr const char* kRoutePrefix = "/upload/";
constexpr std::chrono::seconds kSweepPeriod{3600};
constexpr const char* kDefaultType = "application/octet-stream";

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(SystemClock::now().time_since_epoch())
      .count();
}

// "image/PNG; x=y" and "image/png" are the same type to us.
std::string media_type_of(std::string_view header) {
  auto type = header.substr(0, header.find(';'));
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  std::string out(type);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// A slot handed out and not yet used: only its PUT may create the file.
struct Slot {
  std::string owner;
  std::string filename;
  std::uint64_t size = 0;
  std::string content_type;  // as requested; empty: not given
  SystemClock::time_point expires;
  bool receiving = false;  // a PUT is writing it now
};

class UploadService {
 public:
  UploadService(Host host, storage::Storage& storage, UploadConfig config, std::filesystem::path root,
                std::map<std::string, std::string> base_urls)
      : host_(host), storage_(storage), config_(config), store_(std::move(root)),
        base_urls_(std::move(base_urls)), secret_(sasl::random_bytes(32)) {}

  std::size_t load() { return store_.load(); }

  void on_stanza(const xml::Element& stanza, const xmpp::Jid& from, const xmpp::Jid& to) {
    if (stanza.name() == "presence") return;
    const auto type = stanza.attr_or("type");
    if (stanza.name() != "iq" || (type != "get" && type != "set")) {
      if (type != "error" && stanza.name() == "message")
        host_.bounce(stanza, StanzaError(StanzaCondition::kServiceUnavailable));
      return;
    }
    auto children = stanza.children();
    const xml::Element* payload = children.size() == 1 ? children.front() : nullptr;
    if (!payload) {
      host_.bounce(stanza, StanzaError(StanzaCondition::kBadRequest, ErrorType::kModify));
      return;
    }
    if (type == "get" && payload->name() == "query" && payload->ns() == kInfoNs &&
        !payload->attr("node")) {
      auto reply = xmpp::make_iq_result(stanza);
      reply.add_child(disco_info());
      host_.route(std::move(reply));
    } else if (type == "get" && payload->name() == "query" && payload->ns() == kItemsNs &&
               !payload->attr("node")) {
      auto reply = xmpp::make_iq_result(stanza);
      reply.add_child("query", std::string(kItemsNs));
      host_.route(std::move(reply));
    } else if (type == "get" && payload->ns() == kUploadNs) {
      request_slot(stanza, *payload, from, to);
    } else {
      host_.bounce(stanza, StanzaError(StanzaCondition::kServiceUnavailable));
    }
  }

  http::FilePutDecision authorise_put(const http::FilePut& put) {
    auto where = parse_upload_path(put.path.substr(std::string_view(kRoutePrefix).size()));
    if (!where) return refused(404);
    std::lock_guard lock(mutex_);
    auto it = slots_.find(where->id);
    // Used already (a second PUT), or never handed out / expired and gone.
    if (it == slots_.end()) return refused(store_.contains(where->id) ? 409 : 404);
    Slot& slot = it->second;
    if (slot.filename != where->filename) return refused(404);
    if (!is_authorized(secret_, put.authorization, where->id, slot.size, slot.content_type))
      return refused(403);
    if (slot.receiving) return refused(409);
    if (SystemClock::now() > slot.expires) {
      slots_.erase(it);
      return refused(410);
    }
    if (!slot.content_type.empty() &&
        media_type_of(put.content_type) != media_type_of(slot.content_type))
      return refused(400);
    if (put.content_length && *put.content_length > slot.size) return refused(413);
    if (put.content_length && *put.content_length < slot.size) return refused(400);
    if (!store_.prepare(where->id)) return refused(507);
    slot.receiving = true;
    return {0, store_.temp_file(where->id), slot.size};
  }

  int finish_put(std::string_view path, const std::filesystem::path& temp, bool ok) {
    auto where = parse_upload_path(path.substr(std::string_view(kRoutePrefix).size()));
    if (!where) return 500;
    std::lock_guard lock(mutex_);
    auto it = slots_.find(where->id);
    if (it == slots_.end()) {  // cannot happen: a receiving slot is never erased
      store_.discard(where->id);
      return 500;
    }
    Slot& slot = it->second;
    slot.receiving = false;
    std::error_code ec;
    if (ok && std::filesystem::file_size(temp, ec) != slot.size) ok = false;  // a short chunked body
    if (!ok) {
      // The slot stays usable until it expires: the client may try again.
      store_.discard(where->id);
      return ec ? 500 : 400;
    }
    FileMeta meta{slot.owner, slot.filename, slot.size,
                  slot.content_type.empty() ? kDefaultType : slot.content_type, unix_now()};
    if (!store_.commit(where->id, meta, ec)) {
      spdlog::error("upload: storing {} of {} failed: {}", where->id, slot.owner, ec.message());
      return ec == std::errc::no_space_on_device ? 507 : 500;
    }
    spdlog::info("upload: {} stored {} ({} bytes)", slot.owner, where->id, slot.size);
    slots_.erase(it);
    return 201;
  }

  std::optional<http::ServedFile> find_file(std::string_view path) const {
    auto where = parse_upload_path(path.substr(std::string_view(kRoutePrefix).size()));
    if (!where) return std::nullopt;
    auto meta = store_.find(where->id);
    if (!meta || meta->filename != where->filename) return std::nullopt;
    return http::ServedFile{store_.data_file(where->id), meta->content_type, meta->size,
                            meta->filename};
  }

  // Expired uploads and those of deleted accounts go. Blocking (disk and
  // storage): runs on the blocking pool, or at start.
  void sweep() {
    std::size_t removed = 0;
    if (config_.expire_days > 0) {
      const std::int64_t cutoff = unix_now() - std::int64_t{config_.expire_days} * 86400;
      removed += store_.remove_if([cutoff](const FileMeta& m) { return m.created < cutoff; });
    }
    for (const auto& owner : store_.owners()) {
      auto jid = xmpp::Jid::parse(owner);
      bool exists = false;
      try {
        exists = jid && storage_.accounts().exists({jid->node(), jid->domain()});
      } catch (const std::exception& e) {
        spdlog::error("upload: cannot check the account {}: {}", owner, e.what());
        continue;  // keep its files until the store answers
      }
      if (!exists) removed += store_.remove_if([&](const FileMeta& m) { return m.owner == owner; });
    }
    if (removed) spdlog::info("upload: removed {} expired or orphaned uploads", removed);
  }

 private:
  xml::Element disco_info() const {
    xml::Element query("query", std::string(kInfoNs));
    auto& identity = query.add_child("identity");
    identity.set_attr("category", "store");
    identity.set_attr("type", "file");
    identity.set_attr("name", "HTTP File Upload");
    for (std::string_view f : {kInfoNs, std::string_view(kUploadNs)})
      query.add_child("feature").set_attr("var", f);
    // XEP-0363 §2: the limit, as a XEP-0128 extension, so that a client
    // refuses too large a file before asking.
    adhoc::DataForm form;
    form.type = "result";
    form.add("FORM_TYPE", "hidden").values = {kUploadNs};
    form.add("max-file-size", "").values = {std::to_string(config_.max_file_bytes)};
    query.add_child(adhoc::to_element(form));
    return query;
  }

  void request_slot(const xml::Element& iq, const xml::Element& payload, const xmpp::Jid& from,
                    const xmpp::Jid& to) {
    // Storage and bandwidth are for this server's own accounts.
    if (!from.has_node() || !host_.is_local_domain(from.domain())) {
      host_.bounce(iq, StanzaError(StanzaCondition::kNotAllowed,
                                   "Only accounts of this server may upload files"));
      return;
    }
    auto parsed = parse_slot_request(payload);
    if (auto* bad = std::get_if<BadRequest>(&parsed)) {
      host_.bounce(iq, StanzaError(bad->condition, ErrorType::kModify, bad->text));
      return;
    }
    auto& request = std::get<SlotRequest>(parsed);
    if (request.size > config_.max_file_bytes) {
      // §5: not-acceptable with <file-too-large><max-file-size/>.
      xml::Element too_large("file-too-large", kUploadNs);
      too_large.add_child("max-file-size").add_text(std::to_string(config_.max_file_bytes));
      StanzaError err(StanzaCondition::kNotAcceptable, ErrorType::kModify,
                      "File too large. The maximum file size is " +
                          std::to_string(config_.max_file_bytes) + " bytes");
      err.app = &too_large;
      host_.bounce(iq, err);
      return;
    }
    auto base = base_urls_.find(to.domain());
    if (base == base_urls_.end()) {
      host_.bounce(iq, StanzaError(StanzaCondition::kServiceUnavailable));
      return;
    }
    const std::string owner = from.bare_string();
    const std::string id = make_slot_id();
    {
      std::lock_guard lock(mutex_);
      drop_expired_slots();
      std::uint64_t reserved = 0;
      std::size_t open = 0;
      for (const auto& [slot_id, slot] : slots_) {
        if (slot.owner != owner) continue;
        reserved += slot.size;
        ++open;
      }
      const std::uint64_t used = store_.used_by(owner);
      if (open >= config_.max_open_slots ||
          (config_.quota_bytes > 0 && used + reserved + request.size > config_.quota_bytes)) {
        refuse_for_quota(iq, owner, open >= config_.max_open_slots);
        return;
      }
      slots_.emplace(id, Slot{owner, request.filename, request.size, request.content_type,
                              SystemClock::now() + config_.slot_lifetime});
    }
    const std::string url = slot_url(base->second, id, request.filename);
    auto reply = xmpp::make_iq_result(iq);
    reply.add_child(slot_element(
        url, url, put_authorization(secret_, id, request.size, request.content_type)));
    host_.route(std::move(reply));
  }

  // §5: resource-constraint (wait), with a <retry stamp/> when waiting
  // helps: when the oldest upload expires, or when open slots lapse.
  void refuse_for_quota(const xml::Element& iq, const std::string& owner, bool too_many_slots) {
    std::optional<SystemClock::time_point> retry;
    std::string text;
    if (too_many_slots) {
      text = "Too many uploads under way; try again once they are done";
      retry = SystemClock::now() + config_.slot_lifetime;
    } else {
      text = "Quota reached: your uploads may take " + std::to_string(config_.quota_bytes) + " bytes";
      if (auto oldest = store_.oldest_of(owner); oldest && config_.expire_days > 0)
        retry = SystemClock::time_point(std::chrono::seconds(*oldest + config_.expire_days * 86400LL) +
                                        kSweepPeriod);
    }
    StanzaError err(StanzaCondition::kResourceConstraint, ErrorType::kWait, text);
    xml::Element retry_el("retry", kUploadNs);
    if (retry) {
      retry_el.set_attr("stamp", xmpp::format_datetime(*retry));
      err.app = &retry_el;
    }
    host_.bounce(iq, err);
  }

  void drop_expired_slots() {
    const auto now = SystemClock::now();
    std::erase_if(slots_, [now](const auto& entry) {
      return !entry.second.receiving && entry.second.expires < now;
    });
  }

  Host host_;
  storage::Storage& storage_;
  const UploadConfig config_;
  FileStore store_;
  const std::map<std::string, std::string> base_urls_;  // by service domain
  const std::string secret_;  // signs PUT tokens; slots do not outlive the process either
  std::mutex mutex_;  // slots_: service shards and HTTP shards
  std::map<std::string, Slot> slots_;  // by id
};

awaitable<void> sweep_in_pool(std::shared_ptr<UploadService> service, core::BlockingPool& pool) {
  try {
    auto job = pool.run([&] { service->sweep(); });
    co_await std::move(job);
  } catch (const std::exception& e) {
    spdlog::error("upload: sweep failed: {}", e.what());
  }
}

struct UploadModule : Module {
  // The domain claims and the timer go first: a shard may be in a handler.
  ~UploadModule() override { tokens.clear(); }
  std::shared_ptr<UploadService> service;
};

}  // namespace

std::string base_url_of(const std::string& base_url, const core::ListenConfig& listen,
                        const std::string& domain) {
  if (!base_url.empty()) {
    std::string out = base_url;
    while (!out.empty() && out.back() == '/') out.pop_back();
    return out + "/upload";
  }
  const bool tls = !listen.https.empty();
  const auto& addresses = tls ? listen.https : listen.http;
  if (addresses.empty()) return {};
  auto endpoint = core::parse_listen_address(addresses.front());
  if (!endpoint) return {};
  std::string out = std::string(tls ? "https://" : "http://") + domain;
  if (endpoint->port != (tls ? 443 : 80)) out += ":" + std::to_string(endpoint->port);
  return out + "/upload";
}

std::unique_ptr<Module> start_upload(ModuleContext& ctx) {
  const UploadConfig config = read_options("upload", ctx.options, kUploadOptions);
  const std::string& base_url = config.base_url;
  const std::string& path = config.path;
  if (!base_url.empty() && base_url.rfind("https://", 0) != 0 && base_url.rfind("http://", 0) != 0)
    option_error("upload", "base_url", "must start with https:// or http://");

  auto m = std::make_unique<UploadModule>();
  std::map<std::string, std::string> base_urls;  // by service domain
  for (const auto& domain : ctx.host.domains()) {
    const std::string name = service_domain("upload", "domain", config.domain, domain);
    auto base = base_url_of(base_url, ctx.config.listen, domain);
    if (!base.empty()) base_urls.emplace(name, base);
  }
  // No HTTP listener and no public URL: nowhere to upload to, nothing offered.
  if (base_urls.empty()) {
    spdlog::info("upload: no listen.http/https and no modules.upload.base_url: not offered");
    return m;
  }
  const std::filesystem::path root =
      path.empty() ? std::filesystem::path(ctx.config.data_dir) / "uploads" : std::filesystem::path(path);
  m->service = std::make_shared<UploadService>(ctx.host, ctx.storage, config, root, base_urls);
  const std::size_t found = m->service->load();
  spdlog::info("upload: {} uploads in {}", found, root.string());
  for (const auto& [name, base] : base_urls) {
    m->tokens.push_back(ctx.serve_domain(
        name, [service = m->service.get()](xml::Element stanza, const xmpp::Jid& from,
                                            const xmpp::Jid& to) { service->on_stanza(stanza, from, to); }));
    ctx.features.disco_items.push_back({name, "", "HTTP File Upload"});
  }
  http::FileRoute route;
  route.prefix = kRoutePrefix;
  route.authorise_put = [s = m->service](const http::FilePut& put) { return s->authorise_put(put); };
  route.finish_put = [s = m->service](std::string_view p, const std::filesystem::path& temp, bool ok) {
    return s->finish_put(p, temp, ok);
  };
  route.find_file = [s = m->service](std::string_view p) { return s->find_file(p); };
  ctx.features.file_routes.push_back(std::move(route));

  auto* pool = &ctx.blocking;
  ctx.host.spawn(sweep_in_pool(m->service, *pool));
  m->tokens.push_back(ctx.host.every(kSweepPeriod, [host = ctx.host, s = m->service, pool] {
    host.spawn(sweep_in_pool(s, *pool));
  }));
  return m;
}

TERN_MODULE("upload", "XEP-0363 HTTP File Upload through the server's HTTP listeners",
            &start_upload, 60, kUploadOptions);

}  // namespace tern::modules::upload
