#include "portable/import.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

#include "portable/format.h"
#include "portable/reader.h"
#include "xmpp/jid.h"

namespace tern::portable {
namespace {

constexpr std::size_t kSaltBytes = 16;

bool same(const sasl::ScramCredentials& a, const sasl::ScramCredentials& b) {
  return a.salt == b.salt && a.iterations == b.iterations && a.stored_key == b.stored_key &&
         a.server_key == b.server_key;
}

bool same(const storage::AccountCredentials& a, const storage::AccountCredentials& b) {
  return same(a.sha1, b.sha1) && same(a.sha256, b.sha256);
}

bool password_matches(sasl::Hash h, const std::string& password, const sasl::ScramCredentials& c) {
  if (c.salt.empty() || c.iterations < 1 || c.stored_key.empty()) return false;
  return same(sasl::derive_credentials(h, password, c.salt, c.iterations), c);
}

// Runs f(i) for i in [0, n) on `threads` threads. The first exception f
// throws is rethrown here once every thread has stopped: escaping a thread,
// it would terminate the process instead of reaching main's error report.
template <typename F>
void parallel_for(std::size_t n, unsigned threads, F f) {
  if (n == 0) return;
  threads = std::max(1u, std::min<unsigned>(threads, static_cast<unsigned>(n)));
  std::atomic<std::size_t> next{0};
  std::mutex failure_mutex;
  std::exception_ptr failure;
  auto work = [&] {
    try {
      for (std::size_t i = next++; i < n; i = next++) f(i);
    } catch (...) {
      next = n;  // the others stop after their current item
      std::lock_guard lock(failure_mutex);
      if (!failure) failure = std::current_exception();
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  if (failure) std::rethrow_exception(failure);
}

class Importer {
 public:
  Importer(storage::Storage& storage, const ImportOptions& options, const SectionRegistry& sections)
      : storage_(storage), options_(options), sections_(sections) {
    threads_ = options.threads ? options.threads : std::max(1u, std::thread::hardware_concurrency());
    for (const Section& section : sections.all()) report_.sections.push_back({&section, {}});
  }

  void add(const std::string& host, xml::Element element) {
    ++report_.users_read;
    auto read = portable::read_user(element, sections_);
    if (!read.user) {
      warn("host " + host + ": " + read.error);
      ++report_.users_skipped;
      return;
    }
    portable::User& user = *read.user;
    auto host_jid = xmpp::Jid::parse(host);
    if (!host_jid || host_jid->has_node() || host_jid->has_resource()) {
      if (bad_hosts_.insert(host).second) warn("<host jid='" + host + "'>: not a domain; skipped");
      ++report_.users_skipped;
      return;
    }
    const std::string& domain = host_jid->domain();
    if (std::find(options_.domains.begin(), options_.domains.end(), domain) ==
        options_.domains.end()) {
      if (bad_hosts_.insert(domain).second)
        warn("host " + domain + " is not served here (server.domains); its users are skipped");
      ++report_.users_skipped;
      return;
    }
    auto jid = xmpp::Jid::parse(user.name + "@" + domain);
    if (!jid || !jid->has_node() || jid->has_resource()) {
      warn("user '" + user.name + "' on " + domain + ": not a valid localpart; skipped");
      ++report_.users_skipped;
      return;
    }
    for (const std::string& w : user.warnings) warn(jid->bare_string() + ": " + w);
    pending_.push_back(
        Pending{storage::AccountKey{jid->node(), jid->domain()}, std::move(user), {}, {}});
    if (pending_.size() >= options_.batch_users) flush();
  }

  void flush() {
    if (pending_.empty()) return;
    derive_passwords();
    auto bulk = storage_.begin_bulk(storage::Storage::BulkMode::kWrite);
    for (Pending& p : pending_) apply(*bulk, p);
    bulk->commit();
    pending_.clear();
  }

  ImportReport& report() { return report_; }

 private:
  struct Pending {
    storage::AccountKey key;
    portable::User user;
    std::optional<storage::AccountCredentials> stored;  // read before deriving
    std::optional<storage::AccountCredentials> wanted;  // from the password
  };

  void warn(std::string text) {
    ++report_.warnings;
    if (report_.shown_warnings.size() < options_.max_warnings_shown)
      report_.shown_warnings.push_back(std::move(text));
  }

  // PBKDF2 for the batch's passwords, outside any write transaction (it takes
  // seconds, and a running server must not wait that long for the lock). A
  // password that matches the stored keys keeps them, salt included.
  void derive_passwords() {
    std::vector<Pending*> jobs;
    for (Pending& p : pending_)
      if (p.user.password) jobs.push_back(&p);
    if (jobs.empty()) return;
    {
      auto bulk = storage_.begin_bulk(storage::Storage::BulkMode::kRead);
      for (Pending* p : jobs) p->stored = bulk->credentials(p->key);
    }
    const int iterations = options_.scram_iterations;
    parallel_for(jobs.size(), threads_, [&](std::size_t i) {
      Pending& p = *jobs[i];
      const std::string& password = *p.user.password;
      if (p.stored && password_matches(sasl::Hash::kSha1, password, p.stored->sha1) &&
          password_matches(sasl::Hash::kSha256, password, p.stored->sha256)) {
        p.wanted = p.stored;
        return;
      }
      storage::AccountCredentials c;
      c.sha1 = sasl::derive_credentials(sasl::Hash::kSha1, password,
                                        sasl::random_bytes(kSaltBytes), iterations);
      c.sha256 = sasl::derive_credentials(sasl::Hash::kSha256, password,
                                          sasl::random_bytes(kSaltBytes), iterations);
      p.wanted = std::move(c);
    });
  }

  void apply(storage::BulkTransaction& bulk, Pending& p) {
    const storage::AccountKey& key = p.key;
    portable::User& user = p.user;
    bool changed = false;
    auto stored = bulk.credentials(key);
    std::optional<storage::AccountCredentials> wanted = std::move(p.wanted);
    // File SCRAM keys, as they are: a mechanism the file lacks gets no keys.
    bool keys_match = false;
    if (!wanted && (user.sha1 || user.sha256)) {
      storage::AccountCredentials c;
      c.sha1.iterations = 0;
      c.sha256.iterations = 0;
      if (user.sha1) c.sha1 = *user.sha1;
      if (user.sha256) c.sha256 = *user.sha256;
      // Keys the file does not carry are not a difference worth replacing
      // the others for.
      keys_match = stored && (!user.sha1 || same(*user.sha1, stored->sha1)) &&
                   (!user.sha256 || same(*user.sha256, stored->sha256));
      wanted = std::move(c);
    } else if (wanted && stored) {
      keys_match = same(*wanted, *stored);
    }
    if (!stored && !wanted) {
      warn(key.user + "@" + key.domain + ": no password and no SCRAM credentials; skipped");
      ++report_.users_skipped;
      return;
    }
    const bool created = !stored;
    if (wanted && !keys_match) {
      bulk.put_credentials(key, *wanted);
      if (stored) {
        ++report_.credentials_replaced;
        changed = true;
      }
    }

    for (SectionRead& read : user.sections) {
      SectionTally& tally = tally_of(*read.section);
      const std::uint64_t before = tally.added + tally.changed;
      read.data->store(bulk, key, created, tally);
      if (tally.added + tally.changed != before) changed = true;
    }

    if (!user.offline.empty()) {
      // A multiset: the same stanza twice in the file, once in storage, adds one.
      std::map<std::string, std::size_t> have;
      if (!created)
        for (auto& text : bulk.offline_messages(key)) ++have[std::move(text)];
      for (const std::string& text : user.offline) {
        auto it = have.find(text);
        if (it != have.end() && it->second > 0) {
          --it->second;
          ++report_.offline_present;
        } else {
          bulk.push_offline(key, text);
          ++report_.offline_added;
          changed = true;
        }
      }
    }

    if (created) {
      ++report_.users_created;
    } else if (changed) {
      ++report_.users_updated;
    } else {
      ++report_.users_unchanged;
    }
  }

  SectionTally& tally_of(const Section& section) {
    for (ImportReport::SectionTotal& total : report_.sections)
      if (total.section == &section) return total.tally;
    throw std::logic_error("section " + std::string(section.name) + " is not registered");
  }

  storage::Storage& storage_;
  const ImportOptions& options_;
  const SectionRegistry& sections_;
  unsigned threads_ = 1;
  std::vector<Pending> pending_;
  std::set<std::string> bad_hosts_;
  ImportReport report_;
};

template <typename Read>
ImportReport run(storage::Storage& storage, const ImportOptions& options,
                 const SectionRegistry& sections, Read read) {
  Importer importer(storage, options, sections);
  portable::ReadStats stats;
  std::string error = read(
      [&](const std::string& host, xml::Element user) { importer.add(host, std::move(user)); },
      stats);
  // What was read before an error is kept: each user stands on its own, and
  // a second run after fixing the file skips what is already there.
  importer.flush();
  ImportReport report = std::move(importer.report());
  report.error = std::move(error);
  report.bytes = stats.bytes;
  if (stats.ignored > 0) {
    ++report.warnings;
    report.shown_warnings.push_back(std::to_string(stats.ignored) +
                                    " elements outside <user/> ignored");
  }
  return report;
}

}  // namespace

SectionTally ImportReport::section(std::string_view name) const {
  for (const SectionTotal& total : sections)
    if (total.section->name == name) return total.tally;
  return {};
}

bool ImportReport::changed_anything() const {
  auto changed = [](const SectionTotal& t) { return t.tally.added || t.tally.changed; };
  return users_created || users_updated || offline_added || credentials_replaced ||
         std::any_of(sections.begin(), sections.end(), changed);
}

std::string ImportReport::summary() const {
  auto n = [](std::uint64_t v) { return std::to_string(v); };
  std::string out;
  out += "users: " + n(users_read) + " read, " + n(users_created) + " created, " +
         n(users_updated) + " updated (" + n(credentials_replaced) + " with new credentials), " +
         n(users_unchanged) + " unchanged, " + n(users_skipped) + " skipped\n";
  for (const SectionTotal& total : sections) {
    const SectionTally& t = total.tally;
    out += std::string(total.section->counted) + ": ";
    if (total.section->summary == Summary::kAddedChanged) {
      out += n(t.added) + " added, " + n(t.changed) + " changed, ";
    } else {
      out += n(t.added + t.changed) + " stored, ";
    }
    out += n(t.unchanged) + " unchanged\n";
  }
  out += "offline messages: " + n(offline_added) + " added, " + n(offline_present) +
         " already stored\n";
  if (!changed_anything()) {
    out += n(users_unchanged) + " users";
    for (const SectionTotal& total : sections)
      if (total.section->headline)
        out += ", " + n(total.tally.unchanged) + " " + std::string(total.section->counted);
    out += ": unchanged\n";
  }
  return out;
}

ImportReport import_portable_file(storage::Storage& storage, const ImportOptions& options,
                                  const std::string& path, const SectionRegistry& sections) {
  return run(storage, options, sections,
             [&](const portable::UserHandler& h, portable::ReadStats& s) {
               return portable::read_portable_file(path, h, &s);
             });
}

ImportReport import_portable_text(storage::Storage& storage, const ImportOptions& options,
                                  std::string_view text, const SectionRegistry& sections) {
  return run(storage, options, sections,
             [&](const portable::UserHandler& h, portable::ReadStats& s) {
               return portable::read_portable_text(text, h, &s);
             });
}

int run_import(const core::Config& config, const std::string& path) {
  if (!std::filesystem::exists(path)) {
    std::cerr << "tern: no such file " << path << "\n";
    return 2;
  }
  std::filesystem::create_directories(config.data_dir);
  auto storage = storage::open_storage(config.storage_backend, config.sqlite_path());
  ImportOptions options;
  options.domains = config.domains;
  const auto start = std::chrono::steady_clock::now();
  ImportReport report = import_portable_file(*storage, options, path);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (const std::string& w : report.shown_warnings) std::cerr << "warning: " << w << "\n";
  if (report.warnings > report.shown_warnings.size())
    std::cerr << "… and " << (report.warnings - report.shown_warnings.size())
              << " more warnings\n";
  std::cout << report.summary();
  char took[64];
  std::snprintf(took, sizeof took, "%.1f", seconds);
  std::cout << "imported " << path << " (" << report.bytes / (1024 * 1024) << " MiB) in " << took
            << " s\n";
  if (!report.error.empty()) {
    // The reader's error names the file, which may be an included one.
    std::cerr << "tern: " << report.error << " (the users before it were imported)\n";
    return 1;
  }
  return 0;
}

}  // namespace tern::portable
