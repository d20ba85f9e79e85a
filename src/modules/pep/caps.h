// Entity capabilities (XEP-0115) as PEP needs them: which resources want
// notifications of which nodes ("<node>+notify", XEP-0163 §4.3).
//
// Two tables, both owned by the pep module and shared by the shards (a
// mutex each; entries are small and lookups short):
// - CapsCache: verification string hash ("ver") → the features it stands
//   for, learnt once per ver by querying disco#info of one resource that
//   advertised it and checking the hash (§5.4), then reused for everyone.
// - Listeners: per account, the resources whose available presence it
//   receives (its contacts' and its own), with their ver. That is who a
//   publish may notify; the roster and access model then filter.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "xml/element.h"

namespace tern::modules::pep {

inline constexpr const char* kCapsNs = "http://jabber.org/protocol/caps";

// What a presence's <c/> says.
struct CapsRef {
  std::string node;
  std::string ver;
  std::string hash;  // "sha-1", …; empty for legacy caps (no hash)
  // The cache key: ver alone is unique for hashed caps; legacy ver values
  // are only unique per node.
  std::string key() const { return hash.empty() ? node + "#" + ver : ver; }
};

std::optional<CapsRef> caps_of(const xml::Element& presence);

// XEP-0115 §5.1: the verification string of a disco#info result.
std::string verification_string(const xml::Element& info_query);
// base64(hash(S)) for the hash names XEP-0115 allows ("sha-1", "sha-256",
// "sha-512"); nullopt for another name.
std::optional<std::string> caps_hash(std::string_view hash_name, std::string_view s);

using FeatureSet = std::shared_ptr<const std::set<std::string>>;

class CapsCache {
 public:
  FeatureSet find(const std::string& key) const;
  void put(const std::string& key, std::set<std::string> features);
  // Notes that `listener` of `account` waits for the key's features;
  // true when nobody asked yet (then the caller queries, once per key).
  bool wait_for(const std::string& key, const std::string& account, const std::string& listener);
  // Ends the wait: who waited, as (account, listener full JID).
  std::vector<std::pair<std::string, std::string>> end_wait(const std::string& key);
  std::size_t size() const;

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::string, FeatureSet> known_;
  std::unordered_map<std::string, std::vector<std::pair<std::string, std::string>>> waiting_;
};

// One resource an account hears from, with its caps key (empty: no caps).
struct Listener {
  std::string jid;  // full JID
  std::string caps_key;
};

class Listeners {
 public:
  // Records an available resource for `account`; true when it is new to
  // the account or its caps changed (then it gets the last items).
  bool available(const std::string& account, const std::string& full_jid, const std::string& caps_key);
  void unavailable(const std::string& account, const std::string& full_jid);
  std::vector<Listener> of(const std::string& account) const;
  // The caps key `account` heard from `full_jid`; nullopt when not available.
  std::optional<std::string> caps_key(const std::string& account, const std::string& full_jid) const;
  void forget(const std::string& account);

 private:
  mutable std::mutex mutex_;
  // account bare JID → full JID → caps key
  std::unordered_map<std::string, std::map<std::string, std::string>> by_account_;
};

}  // namespace tern::modules::pep
