#include "modules/roster/subscriber_cache.h"

namespace tern::modules::roster {

std::shared_ptr<const Subscribers> SubscriberCache::find(std::string_view owner_bare) const {
  std::lock_guard lock(mutex_);
  auto it = by_owner_.find(owner_bare);
  return it == by_owner_.end() ? nullptr : it->second;
}

std::uint64_t SubscriberCache::generation() const {
  std::lock_guard lock(mutex_);
  return invalidations_;
}

void SubscriberCache::keep(std::string owner_bare, std::shared_ptr<const Subscribers> list,
                           std::uint64_t generation) {
  std::lock_guard lock(mutex_);
  if (generation == invalidations_) {
    by_owner_.insert_or_assign(std::move(owner_bare), std::move(list));
    return;
  }
  // What is kept may be older than this read: not worth keeping either.
  if (auto it = by_owner_.find(owner_bare); it != by_owner_.end()) by_owner_.erase(it);
}

void SubscriberCache::invalidate(std::string_view owner_bare) {
  std::lock_guard lock(mutex_);
  ++invalidations_;
  if (auto it = by_owner_.find(owner_bare); it != by_owner_.end()) by_owner_.erase(it);
}

void SubscriberCache::release(std::string_view owner_bare) {
  std::lock_guard lock(mutex_);
  if (auto it = by_owner_.find(owner_bare); it != by_owner_.end()) by_owner_.erase(it);
}

std::size_t SubscriberCache::size() const {
  std::lock_guard lock(mutex_);
  return by_owner_.size();
}

}  // namespace tern::modules::roster
