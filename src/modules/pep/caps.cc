#include "modules/pep/caps.h"

#include <openssl/evp.h>

#include <algorithm>

#include "modules/adhoc/data_form.h"
#include "sasl/mechanism.h"

namespace tern::modules::pep {
namespace {

constexpr const char* kDiscoInfoNs = "http://jabber.org/protocol/disco#info";

}  // namespace

std::optional<CapsRef> caps_of(const xml::Element& presence) {
  const xml::Element* c = presence.child("c", kCapsNs);
  if (!c) return std::nullopt;
  CapsRef ref{std::string(c->attr_or("node")), std::string(c->attr_or("ver")),
              std::string(c->attr_or("hash"))};
  if (ref.ver.empty() || ref.node.empty()) return std::nullopt;
  return ref;
}

std::string verification_string(const xml::Element& info) {
  // §5.1: identities by category/type/lang/name, then features, then
  // extended forms by FORM_TYPE with fields by var, each value sorted.
  std::vector<std::string> identities, features;
  std::vector<std::pair<std::string, std::string>> forms;  // (FORM_TYPE, text)
  for (const xml::Element* child : info.children()) {
    if (child->name() == "identity" && child->ns() == kDiscoInfoNs) {
      identities.push_back(std::string(child->attr_or("category")) + "/" +
                           std::string(child->attr_or("type")) + "/" +
                           std::string(child->attr_or("xml:lang")) + "/" +
                           std::string(child->attr_or("name")));
    } else if (child->name() == "feature" && child->ns() == kDiscoInfoNs) {
      features.emplace_back(child->attr_or("var"));
    } else if (child->name() == "x" && child->ns() == adhoc::kDataFormsNs) {
      // Read directly, not through the data form parser: several values in
      // an untyped field are common in the wild and hashed all the same.
      std::string form_type;
      std::vector<std::pair<std::string, std::vector<std::string>>> fields;
      for (const xml::Element* field : child->children()) {
        if (field->name() != "field") continue;
        std::vector<std::string> values;
        for (const xml::Element* v : field->children())
          if (v->name() == "value") values.push_back(v->text());
        if (field->attr_or("var") == "FORM_TYPE") {
          if (!values.empty()) form_type = values.front();
          continue;
        }
        std::sort(values.begin(), values.end());
        fields.emplace_back(std::string(field->attr_or("var")), std::move(values));
      }
      if (form_type.empty()) continue;  // §5.4 3.6: forms without FORM_TYPE are ignored
      std::sort(fields.begin(), fields.end());
      std::string text = form_type + "<";
      for (const auto& [var, values] : fields) {
        text += var + "<";
        for (const auto& v : values) text += v + "<";
      }
      forms.emplace_back(form_type, std::move(text));
    }
  }
  std::sort(identities.begin(), identities.end());
  std::sort(features.begin(), features.end());
  std::sort(forms.begin(), forms.end());
  std::string s;
  for (const auto& i : identities) s += i + "<";
  for (const auto& f : features) s += f + "<";
  for (const auto& [type, text] : forms) s += text;
  return s;
}

std::optional<std::string> caps_hash(std::string_view hash_name, std::string_view s) {
  const EVP_MD* md = nullptr;
  if (hash_name == "sha-1") md = EVP_sha1();
  else if (hash_name == "sha-256") md = EVP_sha256();
  else if (hash_name == "sha-512") md = EVP_sha512();
  if (!md) return std::nullopt;
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(s.data(), s.size(), out, &len, md, nullptr) != 1) return std::nullopt;
  return sasl::base64_encode(std::string_view(reinterpret_cast<const char*>(out), len));
}

FeatureSet CapsCache::find(const std::string& key) const {
  std::lock_guard lock(mutex_);
  auto it = known_.find(key);
  return it == known_.end() ? nullptr : it->second;
}

void CapsCache::put(const std::string& key, std::set<std::string> features) {
  auto set = std::make_shared<const std::set<std::string>>(std::move(features));
  std::lock_guard lock(mutex_);
  known_[key] = std::move(set);
}

bool CapsCache::wait_for(const std::string& key, const std::string& account,
                         const std::string& listener) {
  std::lock_guard lock(mutex_);
  auto [it, first] = waiting_.try_emplace(key);
  // Bounded: one entry per (account, resource) that came online meanwhile.
  if (it->second.size() < 10000) it->second.emplace_back(account, listener);
  return first;
}

std::vector<std::pair<std::string, std::string>> CapsCache::end_wait(const std::string& key) {
  std::lock_guard lock(mutex_);
  auto node = waiting_.extract(key);
  if (node.empty()) return {};
  return std::move(node.mapped());
}

std::size_t CapsCache::size() const {
  std::lock_guard lock(mutex_);
  return known_.size();
}

bool Listeners::available(const std::string& account, const std::string& full_jid,
                          const std::string& caps_key) {
  std::lock_guard lock(mutex_);
  auto& heard = by_account_[account];
  auto [it, inserted] = heard.try_emplace(full_jid, caps_key);
  if (inserted) return true;
  if (it->second == caps_key) return false;
  it->second = caps_key;
  return true;
}

void Listeners::unavailable(const std::string& account, const std::string& full_jid) {
  std::lock_guard lock(mutex_);
  auto it = by_account_.find(account);
  if (it == by_account_.end()) return;
  it->second.erase(full_jid);
  if (it->second.empty()) by_account_.erase(it);
}

std::vector<Listener> Listeners::of(const std::string& account) const {
  std::lock_guard lock(mutex_);
  std::vector<Listener> out;
  auto it = by_account_.find(account);
  if (it == by_account_.end()) return out;
  out.reserve(it->second.size());
  for (const auto& [jid, key] : it->second) out.push_back({jid, key});
  return out;
}

std::optional<std::string> Listeners::caps_key(const std::string& account,
                                               const std::string& full_jid) const {
  std::lock_guard lock(mutex_);
  auto it = by_account_.find(account);
  if (it == by_account_.end()) return std::nullopt;
  auto found = it->second.find(full_jid);
  if (found == it->second.end()) return std::nullopt;
  return found->second;
}

void Listeners::forget(const std::string& account) {
  std::lock_guard lock(mutex_);
  by_account_.erase(account);
}

}  // namespace tern::modules::pep
