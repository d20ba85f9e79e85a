#include "router/iq_table.h"

namespace tern::router {

core::HookToken IqTable::add(IqTarget target, IqType type, std::string ns, IqHandler h) {
  Key key{target, type, std::move(ns)};
  handlers_[key] = std::move(h);
  return core::HookToken([this, key] { handlers_.erase(key); });
}

core::HookToken IqTable::add_sync(IqTarget target, IqType type, std::string ns, SyncIqHandler h) {
  return add(target, type, std::move(ns),
             [h = std::move(h)](const IqRequest& req) -> awaitable<IqReply> { co_return h(req); });
}

const IqHandler* IqTable::find(IqTarget target, IqType type, const std::string& ns) const {
  auto it = handlers_.find(Key{target, type, ns});
  return it == handlers_.end() ? nullptr : &it->second;
}

}  // namespace tern::router
