#include "tern-bench/stats.h"

#include <sys/resource.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace tern::bench {

int Histogram::bucket_of(std::uint64_t v) {
  if (v < kSub) return static_cast<int>(v);
  int msb = 63 - std::countl_zero(v);
  int shift = msb - kSubBits;
  return (shift + 1) * kSub + static_cast<int>((v >> shift) - kSub);
}

std::uint64_t Histogram::upper_edge(int b) {
  if (b < kSub) return static_cast<std::uint64_t>(b);
  int shift = b / kSub - 1;
  std::uint64_t low = static_cast<std::uint64_t>(kSub + b % kSub) << shift;
  return low + ((std::uint64_t{1} << shift) - 1);
}

void Histogram::record(std::uint64_t ns) {
  ++buckets_[bucket_of(ns)];
  ++count_;
  sum_ += ns;
  max_ = std::max(max_, ns);
  min_ = std::min(min_, ns);
}

void Histogram::merge(const Histogram& o) {
  for (int i = 0; i < kBuckets; ++i) buckets_[i] += o.buckets_[i];
  count_ += o.count_;
  sum_ += o.sum_;
  max_ = std::max(max_, o.max_);
  min_ = std::min(min_, o.min_);
}

std::uint64_t Histogram::quantile(double q) const {
  if (count_ == 0) return 0;
  auto rank = static_cast<std::uint64_t>(std::ceil(q * double(count_)));
  rank = std::clamp<std::uint64_t>(rank, 1, count_);
  std::uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += buckets_[i];
    if (seen >= rank) return std::min(upper_edge(i), max_);
  }
  return max_;
}

double process_cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

double read_cpu_seconds(int pid) {
  if (pid <= 0) return -1;
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  std::getline(f, stat);
  // Fields after the command name, which is in parentheses and may hold spaces.
  auto close = stat.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream rest(stat.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return double(utime + stime) / double(sysconf(_SC_CLK_TCK));
}

long read_rss_kib(int pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return -1;
}

std::string json_number(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < 1e15)
    std::snprintf(buf, sizeof buf, "%.0f", v);
  else
    std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

namespace {

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string shown_number(double v) {
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < 1e15)
    std::snprintf(buf, sizeof buf, "%.0f", v);
  else if (std::fabs(v) >= 100)
    std::snprintf(buf, sizeof buf, "%.1f", v);
  else
    std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

}  // namespace

void Report::add(const std::string& key, double value, const std::string& label,
                 const char* unit) {
  std::string shown = shown_number(value);
  if (*unit) shown += std::string(" ") + unit;
  rows_.push_back({key, label.empty() ? key : label, shown, json_number(value)});
}

void Report::add_int(const std::string& key, std::int64_t value, const std::string& label,
                     const char* unit) {
  std::string shown = std::to_string(value);
  if (*unit) shown += std::string(" ") + unit;
  rows_.push_back({key, label.empty() ? key : label, shown, std::to_string(value)});
}

void Report::add_text(const std::string& key, const std::string& value, const std::string& label) {
  rows_.push_back({key, label.empty() ? key : label, value, json_string(value)});
}

void Report::add_latency(const std::string& prefix, const Histogram& h, const std::string& label) {
  auto us = [](std::uint64_t ns) { return double(ns) / 1000.0; };
  add(prefix + "_p50_us", us(h.quantile(0.50)), label + " p50", "us");
  add(prefix + "_p90_us", us(h.quantile(0.90)), label + " p90", "us");
  add(prefix + "_p99_us", us(h.quantile(0.99)), label + " p99", "us");
  add(prefix + "_max_us", us(h.max()), label + " max", "us");
}

void Report::add_failures(const std::map<std::string, std::uint64_t>& f) {
  std::string shown, json = "{";
  for (const auto& [reason, n] : f) {
    if (!shown.empty()) shown += ", ";
    shown += reason + ": " + std::to_string(n);
    if (json.size() > 1) json += ",";
    json += json_string(reason) + ":" + std::to_string(n);
  }
  json += "}";
  rows_.push_back({"failure_reasons", "failure reasons", shown.empty() ? "-" : shown, json});
}

void Report::add_line(const std::string& label, const std::string& shown) {
  rows_.push_back({{}, label, shown, {}});
}

void Report::add_json(const std::string& key, const std::string& json) {
  rows_.push_back({key, {}, {}, json});
}

void Report::print() const {
  std::size_t width = 0;
  for (const auto& r : rows_) width = std::max(width, r.label.size());
  std::printf("tern-bench %s\n", scenario_.c_str());
  for (const auto& r : rows_)
    if (!r.label.empty())
      std::printf("  %-*s  %s\n", static_cast<int>(width), r.label.c_str(), r.shown.c_str());
  std::string json = "{\"scenario\":" + json_string(scenario_);
  for (const auto& r : rows_)
    if (!r.key.empty()) json += "," + json_string(r.key) + ":" + r.json;
  json += "}";
  std::printf("JSON %s\n", json.c_str());
  std::fflush(stdout);
}

}  // namespace tern::bench
