#include "portable/reader.h"

#include <expat.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <vector>

#include "portable/format.h"
#include "portable/xinclude.h"
#include "xmpp/namespaces.h"

namespace tern::portable {
namespace {

namespace fs = std::filesystem;

constexpr char kSeparator = '\x01';
constexpr std::size_t kPieceBytes = 1 << 20;
// ejabberd nests 2 files, the XEP's layout 3: room to spare, and a bound on
// the open files and their buffers.
constexpr std::size_t kMaxIncludeDepth = 8;
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

// The one logical document, whichever file its elements come from (includes
// already replaced). Depth 0 is <server-data/>, 1 a <host/>, 2 a <user/>;
// below that the user's subtree is built in `stack_`.
class Document {
 public:
  void start(const Name& name, const XML_Char** atts) {
    const std::size_t depth = depth_++;
    if (skip_below_) return;  // inside an ignored element
    if (depth == 0) return start_root(name);
    if (depth == 1) return start_host(name, atts);
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

  void end() {
    const std::size_t depth = --depth_;
    if (skip_below_) {
      if (depth == *skip_below_) skip_below_.reset();
      return;
    }
    if (depth < 2) return;
    stack_.pop_back();
    if (depth == 2) done_.emplace_back(host_, std::move(user_));
  }

  void text(std::string_view s) {
    // Text between users and hosts is indentation; in an ignored subtree it
    // goes with the subtree.
    if (stack_.empty() || skip_below_) return;
    stack_.back()->add_text(s);
  }

  void fail(std::string why) {
    if (error_.empty()) error_ = std::move(why);
  }
  const std::string& error() const { return error_; }
  bool saw_root() const { return saw_root_; }

  // Called between parser calls, never from a callback, so that a throwing
  // handler does not unwind through expat.
  void hand_out(const UserHandler& on_user, ReadStats& stats) {
    for (auto& [host, user] : done_) {
      ++stats.users;
      on_user(host, std::move(user));
    }
    done_.clear();
    stats.ignored = ignored_;
  }

 private:
  void start_root(const Name& name) {
    if (name.local != "server-data" || !is_portable_ns(name.uri))
      return fail("the root element is not <server-data xmlns='urn:xmpp:pie:0'/>");
    saw_root_ = true;
  }

  void start_host(const Name& name, const XML_Char** atts) {
    in_host_ = name.local == "host" && is_portable_ns(name.uri);
    if (!in_host_) {
      ++ignored_;
      skip_below_ = 1;
      return;
    }
    host_.clear();
    for (std::size_t i = 0; atts[i]; i += 2)
      if (std::string_view(atts[i]) == "jid") host_ = atts[i + 1];
    if (host_.empty()) fail("<host/> without a jid");
  }

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

struct Include {
  std::string href, parse;
  bool xpointer = false;
  unsigned long line = 0;
};

// One file (or text) with its own expat parser, whose events go to the
// shared Document. An <xi:include/> suspends the parser; the reader then
// reads the included file to its end and resumes this one.
class Source {
 public:
  enum class Step { kMore, kInclude, kDone, kError };

  // `name` is for messages; `dir` is where includes are resolved (none: refused).
  Source(Document& doc, std::string name, fs::path dir)
      : doc_(doc),
        name_(std::move(name)),
        dir_(std::move(dir)),
        parser_(XML_ParserCreateNS("UTF-8", kSeparator)) {
    XML_SetUserData(parser_, this);
    XML_SetElementHandler(parser_, &Source::start_cb, &Source::end_cb);
    XML_SetCharacterDataHandler(parser_, &Source::text_cb);
    XML_SetStartDoctypeDeclHandler(parser_, &Source::doctype_cb);
    XML_SetEntityDeclHandler(parser_, &Source::entity_cb);
  }
  ~Source() { XML_ParserFree(parser_); }
  Source(const Source&) = delete;
  Source& operator=(const Source&) = delete;

  static std::unique_ptr<Source> text(Document& doc, std::string_view text) {
    auto s = std::make_unique<Source>(doc, std::string(), fs::path());
    s->text_ = text;
    return s;
  }

  // nullptr when the file cannot be opened.
  static std::unique_ptr<Source> file(Document& doc, const std::string& path, fs::path dir) {
    auto s = std::make_unique<Source>(doc, path, std::move(dir));
    s->file_.reset(std::fopen(path.c_str(), "rb"));
    struct stat st {};
    if (!s->file_ || ::fstat(::fileno(s->file_.get()), &st) != 0) return nullptr;
    s->id_ = {st.st_dev, st.st_ino};
    // A small file is read in one piece, without a 1 MiB buffer for each.
    s->capacity_ = S_ISREG(st.st_mode) ? std::min<std::size_t>(
                                             kPieceBytes, static_cast<std::size_t>(st.st_size) + 1)
                                       : kPieceBytes;
    s->buffer_ = std::make_unique_for_overwrite<char[]>(s->capacity_);
    return s;
  }

  // Parses the next piece, or the rest of the current one after an include.
  Step step(ReadStats& stats) {
    XML_Status status;
    if (suspended_) {
      suspended_ = false;
      status = XML_ResumeParser(parser_);
    } else {
      std::optional<std::string_view> piece = next_piece();
      if (!piece) return Step::kError;
      stats.bytes += piece->size();
      status = XML_Parse(parser_, piece->data(), static_cast<int>(piece->size()), last_ ? 1 : 0);
    }
    if (status == XML_STATUS_SUSPENDED) {
      suspended_ = true;
      return Step::kInclude;
    }
    if (status != XML_STATUS_OK) return Step::kError;
    return last_ ? Step::kDone : Step::kMore;
  }

  // After kError: what went wrong, where.
  std::string error() const {
    if (!io_error_.empty()) return io_error_;
    const unsigned long line = XML_GetCurrentLineNumber(parser_);
    if (!doc_.error().empty()) return at(line) + doc_.error();
    return at(line) + XML_ErrorString(XML_GetErrorCode(parser_));
  }

  // "FILE: line N: " for a message about this source.
  std::string at(unsigned long line) const {
    return (name_.empty() ? "" : name_ + ": ") + "line " + std::to_string(line) + ": ";
  }

  const Include& include() const { return include_; }
  const fs::path& dir() const { return dir_; }
  bool same_file(const Source& other) const { return file_ && other.file_ && id_ == other.id_; }

 private:
  std::optional<std::string_view> next_piece() {
    if (!file_) {
      std::string_view piece = text_.substr(0, kPieceBytes);
      text_.remove_prefix(piece.size());
      last_ = text_.empty();
      return piece;
    }
    const std::size_t n = std::fread(buffer_.get(), 1, capacity_, file_.get());
    if (n < capacity_ && std::ferror(file_.get())) {
      io_error_ = "cannot read " + name_;
      return std::nullopt;
    }
    last_ = n < capacity_;
    return std::string_view(buffer_.get(), n);
  }

  void on_start(const XML_Char* raw, const XML_Char** atts) {
    if (include_depth_ > 0) {  // the include's own children: <xi:fallback/>
      ++include_depth_;
      return;
    }
    const Name name = split(raw);
    if (name.uri == kXIncludeNs) return on_include(name, atts);
    doc_.start(name, atts);
    if (!doc_.error().empty()) XML_StopParser(parser_, XML_FALSE);
  }

  void on_include(const Name& name, const XML_Char** atts) {
    if (name.local != "include")
      return fail("<xi:" + std::string(name.local) + "/> outside <xi:include/>");
    include_ = Include{};
    include_.line = XML_GetCurrentLineNumber(parser_);
    for (std::size_t i = 0; atts[i]; i += 2) {
      const std::string_view attr(atts[i]);
      if (attr == "href") include_.href = atts[i + 1];
      if (attr == "parse") include_.parse = atts[i + 1];
      if (attr == "xpointer") include_.xpointer = true;
    }
    include_depth_ = 1;
    XML_StopParser(parser_, XML_TRUE);  // expat still reports an empty element's end
  }

  void on_end() {
    if (include_depth_ > 0) {
      --include_depth_;
      return;
    }
    doc_.end();
  }

  void on_text(const XML_Char* s, int len) {
    if (include_depth_ == 0) doc_.text(std::string_view(s, static_cast<std::size_t>(len)));
  }

  void fail(std::string why) {
    doc_.fail(std::move(why));
    XML_StopParser(parser_, XML_FALSE);
  }

  static Source& self(void* u) { return *static_cast<Source*>(u); }
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

  Document& doc_;
  std::string name_;
  fs::path dir_;
  XML_Parser parser_;
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file_{nullptr, &std::fclose};
  std::pair<dev_t, ino_t> id_{};
  std::unique_ptr<char[]> buffer_;
  std::size_t capacity_ = 0;
  std::string_view text_;  // the rest of an in-memory document
  bool last_ = false;      // the piece being parsed is the last
  bool suspended_ = false;
  std::size_t include_depth_ = 0;  // inside an <xi:include/>: 1 + its depth
  Include include_;
  std::string io_error_;
};

using Stack = std::vector<std::unique_ptr<Source>>;

// Checks everything about `from`'s include that needs no file first.
std::string check_include(const Stack& open, const Include& inc) {
  if (open.back()->dir().empty()) return "<xi:include/> in a document not read from a file";
  if (inc.parse == "text") return "<xi:include parse='text'/> is not supported: only XML files";
  if (!inc.parse.empty() && inc.parse != "xml")
    return "<xi:include parse='" + inc.parse + "'/> is not supported";
  if (inc.xpointer) return "<xi:include xpointer=…/> is not supported: only whole files";
  if (open.size() > kMaxIncludeDepth)
    return "includes nested deeper than " + std::to_string(kMaxIncludeDepth) + " files";
  return {};
}

// Opens the file the top source's include names, or says why not (with the
// file and line of the include).
std::unique_ptr<Source> open_include(const Stack& open, const fs::path& export_dir, Document& doc,
                                     std::string& error) {
  const Source& from = *open.back();
  const Include& inc = from.include();
  auto fail = [&](const std::string& why) {
    error = from.at(inc.line) + why;
    return nullptr;
  };
  if (std::string why = check_include(open, inc); !why.empty()) return fail(why);
  const IncludeTarget target = resolve_include(inc.href, from.dir(), export_dir);
  if (!target.error.empty()) return fail(target.error);
  auto next = Source::file(doc, target.path.string(), target.path.parent_path());
  if (!next) return fail("cannot open " + target.path.string());
  for (const auto& source : open)
    if (source->same_file(*next))
      return fail("include loop: " + target.path.string() + " includes itself");
  return next;
}

std::string read(std::unique_ptr<Source> root, const fs::path& export_dir, Document& doc,
                 const UserHandler& on_user, ReadStats* stats) {
  ReadStats local;
  ReadStats& s = stats ? *stats : local;
  const std::string root_at = root->at(1);
  Stack open;
  open.push_back(std::move(root));
  while (!open.empty()) {
    Source& top = *open.back();
    const Source::Step step = top.step(s);
    doc.hand_out(on_user, s);
    if (step == Source::Step::kError) return top.error();
    if (step == Source::Step::kDone) open.pop_back();
    if (step != Source::Step::kInclude) continue;
    std::string error;
    auto next = open_include(open, export_dir, doc, error);
    if (!next) return error;
    open.push_back(std::move(next));
  }
  if (!doc.saw_root()) return root_at + "no <server-data/> element";
  return {};
}

}  // namespace

std::string read_portable_text(std::string_view text, const UserHandler& on_user,
                               ReadStats* stats) {
  Document doc;
  return read(Source::text(doc, text), {}, doc, on_user, stats);
}

std::string read_portable_file(const std::string& path, const UserHandler& on_user,
                               ReadStats* stats) {
  Document doc;
  // The directory as named, not the file's symlink target: includes are
  // relative to where the operator sees the file (and /dev/stdin works).
  std::error_code ec;
  const fs::path export_dir = fs::canonical(fs::absolute(path).parent_path(), ec);
  auto root = ec ? nullptr : Source::file(doc, path, export_dir);
  if (!root) return "cannot open " + path;
  return read(std::move(root), export_dir, doc, on_user, stats);
}

}  // namespace tern::portable
