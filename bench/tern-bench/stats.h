// Counters and latency histograms, kept per thread and merged at the end.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace tern::bench {

// Log-linear histogram of nanosecond values: 32 sub-buckets per power of two,
// so any reported percentile is within ~3% of the true value. Fixed size
// (~16 KiB), no allocation when recording.
class Histogram {
 public:
  void record(std::uint64_t ns);
  void merge(const Histogram& other);
  std::uint64_t count() const { return count_; }
  std::uint64_t max() const { return max_; }
  std::uint64_t min() const { return count_ ? min_ : 0; }
  double mean() const { return count_ ? double(sum_) / double(count_) : 0; }
  // Value at quantile q in [0,1] (upper edge of its bucket, capped at max).
  std::uint64_t quantile(double q) const;

 private:
  static constexpr int kSubBits = 5;
  static constexpr int kSub = 1 << kSubBits;
  static constexpr int kBuckets = (64 - kSubBits + 1) * kSub;
  static int bucket_of(std::uint64_t v);
  static std::uint64_t upper_edge(int bucket);
  std::array<std::uint64_t, kBuckets> buckets_{};
  std::uint64_t count_ = 0, sum_ = 0, max_ = 0, min_ = UINT64_MAX;
};

// A counter written by one thread and read by any: relaxed load+store, no
// locked instruction on the hot path.
struct Counter {
  std::atomic<std::uint64_t> v{0};
  void add(std::uint64_t n = 1) { v.store(v.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
  std::uint64_t get() const { return v.load(std::memory_order_relaxed); }
};

// What one worker thread counts. Histograms and failure reasons are read
// only after the worker has stopped.
struct WorkerStats {
  Counter online;        // sessions that completed the login sequence
  Counter failed;        // connections that failed before being online
  Counter dropped;       // online sessions the server closed
  Counter logins;        // login scenario: completed login+logout cycles
  Counter tls_resumed;   // TLS handshakes that resumed a session
  Counter sent;          // chat messages / presence changes sent
  Counter received;      // chat messages / other users' presences received
  Counter received_other;  // stanzas received that the scenario does not count
  Counter errors;          // error stanzas received (type='error')
  Histogram login_latency;    // connect .. bound (or online)
  Histogram message_latency;  // chat: send timestamp .. receipt
  std::map<std::string, std::uint64_t> failures;  // reason -> count
  void fail(const std::string& reason) {
    failed.add();
    ++failures[reason];
  }
};

// Total over workers; histograms merged.
struct Totals {
  std::uint64_t online = 0, failed = 0, dropped = 0, logins = 0, tls_resumed = 0, sent = 0,
                received = 0, received_other = 0, errors = 0;
  Histogram login_latency, message_latency;
  std::map<std::string, std::uint64_t> failures;
};

// Seconds of CPU (user + system) this process has used so far.
double process_cpu_seconds();
// CPU seconds (user + system) another process has used, or -1.
double read_cpu_seconds(int pid);
// VmRSS of a process in KiB, or -1 if it cannot be read.
long read_rss_kib(int pid);

// A number as JSON (integral values without a fraction; null if not finite).
std::string json_number(double v);

// The report: rows for the table, the same keys in the JSON line.
class Report {
 public:
  explicit Report(std::string scenario) : scenario_(std::move(scenario)) {}
  void add(const std::string& key, double value, const std::string& label = {},
           const char* unit = "");
  void add_int(const std::string& key, std::int64_t value, const std::string& label = {},
               const char* unit = "");
  void add_text(const std::string& key, const std::string& value, const std::string& label = {});
  void add_latency(const std::string& prefix, const Histogram& h, const std::string& label);
  void add_failures(const std::map<std::string, std::uint64_t>& f);
  // A row for the table only, and a value (already JSON) for the JSON line only.
  void add_line(const std::string& label, const std::string& shown);
  void add_json(const std::string& key, const std::string& json);
  void print() const;  // table, then "JSON {...}"

 private:
  struct Row {
    std::string key, label, shown, json;
  };
  std::string scenario_;
  std::vector<Row> rows_;
};

}  // namespace tern::bench
