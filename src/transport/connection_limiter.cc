#include "transport/connection_limiter.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <string_view>

namespace tern::transport {
namespace {

// How often full buckets are dropped: a full bucket is the same as none.
constexpr auto kSweepEvery = std::chrono::seconds(10);

// The address whose bucket `address` draws from: itself for IPv4, its /64
// for IPv6 (one subscriber's block, of which one host can use any address).
core::IpBytes group_of(const core::IpBytes& address) {
  if (core::is_ipv4_mapped(address)) return address;
  core::IpBytes group = address;
  std::fill(group.begin() + 8, group.end(), 0);
  return group;
}

std::string group_name(const core::IpBytes& group) {
  if (core::is_ipv4_mapped(group)) return core::ip_to_string(group);
  return core::ip_to_string(group) + "/64";
}

core::IpBytes to_bytes(const asio::ip::address& peer) {
  if (peer.is_v4()) return core::ipv4_mapped(peer.to_v4().to_bytes());
  return peer.to_v6().to_bytes();
}

}  // namespace

ConnectionLimits connection_limits(const core::Config& config) {
  ConnectionLimits limits;
  limits.per_minute = static_cast<double>(config.connections_per_ip_per_minute);
  limits.burst = static_cast<double>(config.connections_per_ip_burst);
  limits.exempt_loopback = config.connections_exempt_loopback;
  for (const std::string& text : config.connections_exempt_networks) {
    if (auto network = core::parse_ip_network(text)) limits.exempt.push_back(*network);
  }
  return limits;
}

std::size_t ConnectionLimiter::Hash::operator()(const core::IpBytes& b) const {
  return std::hash<std::string_view>()(
      std::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
}

ConnectionLimiter::ConnectionLimiter(ConnectionLimits limits) : limits_(std::move(limits)) {
  limits_.burst = std::max(1.0, limits_.burst);
}

bool ConnectionLimiter::is_exempt(const core::IpBytes& address) const {
  if (limits_.exempt_loopback && core::is_loopback(address)) return true;
  return std::any_of(limits_.exempt.begin(), limits_.exempt.end(),
                     [&](const core::IpNetwork& n) { return n.contains(address); });
}

void ConnectionLimiter::refill(Bucket& bucket, Clock::time_point now) const {
  if (now <= bucket.updated) return;
  std::chrono::duration<double, std::ratio<60>> minutes = now - bucket.updated;
  bucket.tokens = std::min(limits_.burst, bucket.tokens + minutes.count() * limits_.per_minute);
  bucket.updated = now;
}

void ConnectionLimiter::forget_old(Clock::time_point now) {
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    Bucket& bucket = it->second;
    refill(bucket, now);
    // Still within a quiet log interval: keep it, or the next refusal would
    // be logged again at once.
    bool logging_quietly = bucket.logged && now - *bucket.logged < limits_.log_interval;
    if (bucket.tokens >= limits_.burst && !logging_quietly) {
      it = buckets_.erase(it);
    } else {
      ++it;
    }
  }
  if (buckets_.size() < limits_.max_tracked) return;
  // Many addresses still draining their burst (a spread-out flood): forget
  // the least recently seen, so memory stays bounded. They start afresh.
  std::vector<std::pair<Clock::time_point, core::IpBytes>> by_age;
  by_age.reserve(buckets_.size());
  for (const auto& [group, bucket] : buckets_) by_age.emplace_back(bucket.updated, group);
  std::size_t excess = buckets_.size() - limits_.max_tracked / 2;
  std::nth_element(by_age.begin(), by_age.begin() + static_cast<std::ptrdiff_t>(excess),
                   by_age.end());
  for (std::size_t i = 0; i < excess; ++i) buckets_.erase(by_age[i].second);
}

ConnectionLimiter::Verdict ConnectionLimiter::admit(const core::IpBytes& address,
                                                    Clock::time_point now) {
  Verdict verdict;
  if (is_exempt(address)) return verdict;
  const core::IpBytes group = group_of(address);
  std::lock_guard lock(mutex_);
  if (now >= next_sweep_ || buckets_.size() >= limits_.max_tracked) {
    forget_old(now);
    next_sweep_ = now + kSweepEvery;
  }
  auto [it, inserted] = buckets_.try_emplace(group);
  Bucket& bucket = it->second;
  if (inserted) {
    bucket.tokens = limits_.burst;
    bucket.updated = now;
  }
  refill(bucket, now);
  if (bucket.tokens >= 1.0) {
    bucket.tokens -= 1.0;
    return verdict;
  }
  verdict.allowed = false;
  verdict.group = group_name(group);
  ++bucket.refused_unlogged;
  if (!bucket.logged || now - *bucket.logged >= limits_.log_interval) {
    verdict.log = true;
    verdict.refused_unlogged = bucket.refused_unlogged;
    bucket.refused_unlogged = 0;
    bucket.logged = now;
  }
  return verdict;
}

bool ConnectionLimiter::allow(const asio::ip::address& peer) {
  Verdict verdict = admit(to_bytes(peer));
  if (verdict.log) {
    spdlog::warn(
        "refusing connections from {}: over limits.connections_per_ip_burst and "
        "limits.connections_per_ip_per_minute ({} refused since the last report; next report in "
        "{}s at the earliest)",
        verdict.group, verdict.refused_unlogged, limits_.log_interval.count());
  }
  return verdict.allowed;
}

std::size_t ConnectionLimiter::tracked() const {
  std::lock_guard lock(mutex_);
  return buckets_.size();
}

}  // namespace tern::transport
