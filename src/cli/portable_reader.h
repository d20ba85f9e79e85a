// Streams a XEP-0227 file one <user/> at a time.
//
// A <host/> with 100,000 users is one element of hundreds of megabytes, so
// the file is not parsed as a tree: expat reads it in 1 MiB pieces, and only
// the subtree of the current <user/> is built. Memory stays at one piece plus
// the users completed in it, whatever the file's size.
//
// Refused: a DTD or entity declaration (no entity expansion, ever) and
// XInclude (<xi:include/>; merge split exports into one file first).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "xml/element.h"

namespace tern::cli::portable {

struct ReadStats {
  std::uint64_t bytes = 0;
  std::uint64_t users = 0;
  std::uint64_t ignored = 0;  // unknown elements outside <user/>
};

// Called for each complete <user/> with the 'jid' of its <host/>. May throw;
// reading stops and the exception propagates.
using UserHandler = std::function<void(const std::string& host, xml::Element user)>;

// Reads `path` (or, for read_portable_text, `text`). Returns an empty string
// on success, else "line N: what" (what was read before stays handled).
std::string read_portable_file(const std::string& path, const UserHandler& on_user,
                               ReadStats* stats = nullptr);
std::string read_portable_text(std::string_view text, const UserHandler& on_user,
                               ReadStats* stats = nullptr);

}  // namespace tern::cli::portable
