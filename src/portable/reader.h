// Streams a XEP-0227 file one <user/> at a time.
//
// A <host/> with 100,000 users is one element of hundreds of megabytes, so
// the file is not parsed as a tree: expat reads it in 1 MiB pieces, and only
// the subtree of the current <user/> is built. Memory stays at one piece plus
// the users completed in it, whatever the file's size.
//
// XInclude (<xi:include href='…'/>, as ejabberd's export_piefxis writes):
// the element is replaced by the root element of the file it names, read the
// same way, so a split export streams like a single file. Only whole XML
// documents (no parse='text', no xpointer), nested at most 8 files deep, no
// loops, and only files inside the imported file's directory (see
// xinclude.h). An include's <xi:fallback/> is never used: a missing
// file is an error.
//
// Refused: a DTD or entity declaration (no entity expansion, ever).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "xml/element.h"

namespace tern::portable {

struct ReadStats {
  std::uint64_t bytes = 0;
  std::uint64_t users = 0;
  std::uint64_t ignored = 0;  // unknown elements outside <user/>
};

// Called for each complete <user/> with the 'jid' of its <host/>. May throw;
// reading stops and the exception propagates.
using UserHandler = std::function<void(const std::string& host, xml::Element user)>;

// Reads `path` (or, for read_portable_text, `text`, where an include has no
// directory to resolve against and is refused). Returns an empty string on
// success, else "FILE: line N: what" naming the file where it went wrong, or
// "line N: what" for text (what was read before stays handled).
std::string read_portable_file(const std::string& path, const UserHandler& on_user,
                               ReadStats* stats = nullptr);
std::string read_portable_text(std::string_view text, const UserHandler& on_user,
                               ReadStats* stats = nullptr);

}  // namespace tern::portable
