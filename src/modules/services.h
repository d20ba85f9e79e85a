// Objects one module offers to the modules that start after it, found by
// type: the mam module's archive (ids and writer), which the muc module
// writes room archives through. Filled while modules start (one thread),
// then only read; an object lives as long as some module holds it.
#pragma once

#include <map>
#include <memory>
#include <typeindex>

namespace tern::modules {

class ModuleServices {
 public:
  template <class T>
  void offer(std::shared_ptr<T> service) {
    by_type_[std::type_index(typeid(T))] = std::move(service);
  }
  // Null when no module offered a T.
  template <class T>
  std::shared_ptr<T> find() const {
    auto it = by_type_.find(std::type_index(typeid(T)));
    return it == by_type_.end() ? nullptr : std::static_pointer_cast<T>(it->second);
  }

 private:
  std::map<std::type_index, std::shared_ptr<void>> by_type_;
};

}  // namespace tern::modules
