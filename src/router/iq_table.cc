#include "router/iq_table.h"

#include <algorithm>

namespace tern::router {

core::HookToken IqTable::add(IqTarget target, IqType type, std::string ns, IqHandler h) {
  Key key{target, type, std::move(ns)};
  auto id = ++next_id_;
  handlers_[key].push_back({id, std::move(h)});
  return core::HookToken([this, key, id] {
    auto it = handlers_.find(key);
    if (it == handlers_.end()) return;
    std::erase_if(it->second, [id](const Entry& e) { return e.id == id; });
    if (it->second.empty()) handlers_.erase(it);
  });
}

core::HookToken IqTable::add_sync(IqTarget target, IqType type, std::string ns, SyncIqHandler h) {
  return add(target, type, std::move(ns),
             [h = std::move(h)](const IqRequest& req) -> awaitable<IqReply> { co_return h(req); });
}

const IqHandler* IqTable::find(IqTarget target, IqType type, const std::string& ns) const {
  auto it = handlers_.find(Key{target, type, ns});
  return it == handlers_.end() ? nullptr : &it->second.back().handler;
}

}  // namespace tern::router
