#include "cli/portable_reader.h"

#include <expat.h>

#include <cstdio>
#include <memory>
#include <optional>
#include <vector>

#include "cli/portable_format.h"
#include "xml/namespaces.h"

namespace tern::cli::portable {
namespace {

constexpr char kSeparator = '\x01';
constexpr std::size_t kPieceBytes = 1 << 20;
constexpr std::string_view kXIncludeNs = "http://www.w3.org/2001/XInclude";

struct Name {
  std::string_view uri;
  std::string_view local;
};

// Expat reports "uri\1local", or "local" when there is no namespace.
Name split(const XML_Char* name) {
  std::string_view s(name);
  std::size_t at = s.find(kSeparator);
  if (at == std::string_view::npos) return {{}, s};
  return {s.substr(0, at), s.substr(at + 1)};
}

// The same attribute naming as xml::StreamParser, so that elements read here
// serialize exactly as the server's own would.
std::string attribute_name(const Name& n) {
  if (n.uri.empty()) return std::string(n.local);
  if (n.uri == ns::kXml) return "xml:" + std::string(n.local);
  return "{" + std::string(n.uri) + "}" + std::string(n.local);
}

// Depth 0 is <server-data/>, 1 a <host/>, 2 a <user/>; below that the
// user's subtree is built in `stack`.
class Reader {
 public:
  Reader() : parser_(XML_ParserCreateNS("UTF-8", kSeparator)) {
    XML_SetUserData(parser_, this);
    XML_SetElementHandler(parser_, &Reader::start_cb, &Reader::end_cb);
    XML_SetCharacterDataHandler(parser_, &Reader::text_cb);
    XML_SetStartDoctypeDeclHandler(parser_, &Reader::doctype_cb);
    XML_SetEntityDeclHandler(parser_, &Reader::entity_cb);
  }
  ~Reader() { XML_ParserFree(parser_); }
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  // Parses one piece; completed users are handed out after expat returns,
  // so a throwing handler never unwinds through C code.
  std::string feed(std::string_view bytes, bool last, const UserHandler& on_user,
                   ReadStats& stats) {
    stats.bytes += bytes.size();
    XML_Status status =
        XML_Parse(parser_, bytes.data(), static_cast<int>(bytes.size()), last ? 1 : 0);
    for (auto& [host, user] : done_) {
      ++stats.users;
      on_user(host, std::move(user));
    }
    done_.clear();
    stats.ignored = ignored_;
    if (!error_.empty()) return where() + error_;
    if (status != XML_STATUS_OK)
      return where() + XML_ErrorString(XML_GetErrorCode(parser_));
    if (last && !saw_root_) return "line 1: no <server-data/> element";
    return {};
  }

 private:
  std::string where() const {
    return "line " + std::to_string(XML_GetCurrentLineNumber(parser_)) + ": ";
  }

  void fail(std::string why) {
    if (error_.empty()) error_ = std::move(why);
    XML_StopParser(parser_, XML_FALSE);
  }

  void on_start(const XML_Char* raw, const XML_Char** atts) {
    const Name name = split(raw);
    const std::size_t depth = depth_++;
    if (skip_below_) return;  // inside an ignored element
    if (name.uri == kXIncludeNs) {
      fail("<xi:include/> is not supported: merge the files into one first");
      return;
    }
    if (depth == 0) {
      if (name.local != "server-data" || !is_portable_ns(name.uri)) {
        fail("the root element is not <server-data xmlns='urn:xmpp:pie:0'/>");
        return;
      }
      saw_root_ = true;
      return;
    }
    if (depth == 1) {
      in_host_ = name.local == "host" && is_portable_ns(name.uri);
      if (!in_host_) {
        ++ignored_;
        skip_below_ = depth;
        return;
      }
      host_.clear();
      for (std::size_t i = 0; atts[i]; i += 2)
        if (std::string_view(atts[i]) == "jid") host_ = atts[i + 1];
      if (host_.empty()) fail("<host/> without a jid");
      return;
    }
    if (depth == 2 && !(in_host_ && name.local == "user" && is_portable_ns(name.uri))) {
      ++ignored_;
      skip_below_ = depth;
      return;
    }
    std::vector<xml::Attribute> attrs;
    for (std::size_t i = 0; atts[i]; i += 2)
      attrs.push_back(xml::Attribute{attribute_name(split(atts[i])), atts[i + 1]});
    xml::Element el(std::string(name.local), std::string(name.uri), std::move(attrs));
    if (stack_.empty()) {
      user_ = std::move(el);
      stack_.push_back(&user_);
    } else {
      stack_.push_back(&stack_.back()->add_child(std::move(el)));
    }
  }

  void on_end() {
    const std::size_t depth = --depth_;
    if (skip_below_) {
      if (depth == *skip_below_) skip_below_.reset();
      return;
    }
    if (depth < 2) return;
    stack_.pop_back();
    if (depth == 2) done_.emplace_back(host_, std::move(user_));
  }

  void on_text(const XML_Char* s, int len) {
    // Text between users and hosts is indentation; in an ignored subtree it
    // goes with the subtree.
    if (stack_.empty() || skip_below_) return;
    stack_.back()->add_text(std::string_view(s, static_cast<std::size_t>(len)));
  }

  static Reader& self(void* u) { return *static_cast<Reader*>(u); }
  static void start_cb(void* u, const XML_Char* name, const XML_Char** atts) {
    self(u).on_start(name, atts);
  }
  static void end_cb(void* u, const XML_Char*) { self(u).on_end(); }
  static void text_cb(void* u, const XML_Char* s, int len) { self(u).on_text(s, len); }
  static void doctype_cb(void* u, const XML_Char*, const XML_Char*, const XML_Char*, int) {
    self(u).fail("a DTD is not allowed");
  }
  static void entity_cb(void* u, const XML_Char*, int, const XML_Char*, int, const XML_Char*,
                        const XML_Char*, const XML_Char*, const XML_Char*) {
    self(u).fail("entity declarations are not allowed");
  }

  XML_Parser parser_;
  std::size_t depth_ = 0;
  bool saw_root_ = false;
  bool in_host_ = false;
  std::string host_;
  std::optional<std::size_t> skip_below_;  // depth of an ignored element
  xml::Element user_;
  std::vector<xml::Element*> stack_;
  std::vector<std::pair<std::string, xml::Element>> done_;
  std::uint64_t ignored_ = 0;
  std::string error_;
};

}  // namespace

std::string read_portable_text(std::string_view text, const UserHandler& on_user,
                               ReadStats* stats) {
  ReadStats local;
  Reader reader;
  std::string error;
  do {
    std::string_view piece = text.substr(0, kPieceBytes);
    text.remove_prefix(piece.size());
    error = reader.feed(piece, text.empty(), on_user, stats ? *stats : local);
  } while (error.empty() && !text.empty());
  return error;
}

std::string read_portable_file(const std::string& path, const UserHandler& on_user,
                               ReadStats* stats) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                       &std::fclose);
  if (!file) return "cannot open " + path;
  ReadStats local;
  Reader reader;
  std::vector<char> buffer(kPieceBytes);
  for (;;) {
    std::size_t n = std::fread(buffer.data(), 1, buffer.size(), file.get());
    if (n < buffer.size() && std::ferror(file.get())) return "cannot read " + path;
    const bool last = n < buffer.size();
    std::string error =
        reader.feed(std::string_view(buffer.data(), n), last, on_user, stats ? *stats : local);
    if (!error.empty() || last) return error;
  }
}

}  // namespace tern::cli::portable
