// The backend factory: the one place that knows every driver's name.
#include <memory>
#include <string>

#include "storage/sqlite/sqlite_storage.h"
#include "storage/storage.h"

namespace tern::storage {

std::unique_ptr<Storage> open_storage(const std::string& backend, const std::string& url) {
  if (backend == "sqlite") return std::make_unique<sqlite::SqliteStorage>(url);
  throw StorageError("unknown storage backend \"" + backend + "\" (known: sqlite)");
}

}  // namespace tern::storage
