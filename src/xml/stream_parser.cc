#include "xml/stream_parser.h"

#include <expat.h>
#include <malloc.h>
#include <strings.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <utility>
#include <vector>

#include "xml/namespaces.h"
#include "xml/serializer.h"

namespace tern::xml {

namespace {

// Expat joins URI, local name and prefix with this character. It cannot occur
// in an XML 1.0 document, not even as a character reference, so no URI can
// contain it.
constexpr char kNsSeparator[] = "\x01";
// Bytes allowed before the stream header on top of max_header_bytes: a byte
// order mark, the XML declaration, whitespace.
constexpr std::size_t kPreHeaderSlack = 1024;
// Expat never shrinks its buffer or forgets an element name it has seen;
// past this much we rebuild it at the next quiet moment even when
// release_when_idle is off.
constexpr std::size_t kTrimExpatBytes = 16 * 1024;
// Bytes handed to expat per call, so one huge feed is checked against the
// limits piece by piece instead of being copied into expat whole.
constexpr std::size_t kMaxChunk = 64 * 1024;

// --- Accounting of expat's memory --------------------------------------------
//
// Expat's allocator hooks take no context argument, so the account to charge
// is found through a thread-local pointer that AccountScope sets around each
// call into expat. It names the parser running on this thread, nothing more.
thread_local std::size_t* t_account = nullptr;

class AccountScope {
 public:
  explicit AccountScope(std::size_t* account) : saved_(t_account) { t_account = account; }
  ~AccountScope() { t_account = saved_; }
  AccountScope(const AccountScope&) = delete;
  AccountScope& operator=(const AccountScope&) = delete;

 private:
  std::size_t* saved_;
};

void* counted_malloc(std::size_t n) {
  void* p = std::malloc(n);
  if (p && t_account) *t_account += malloc_usable_size(p);
  return p;
}

void counted_free(void* p) {
  if (p && t_account) *t_account -= malloc_usable_size(p);
  std::free(p);
}

void* counted_realloc(void* p, std::size_t n) {
  std::size_t before = p ? malloc_usable_size(p) : 0;
  void* q = std::realloc(p, n);
  if (q && t_account) *t_account += malloc_usable_size(q) - before;  // modular: may shrink
  return q;
}

const XML_Memory_Handling_Suite kCountingAllocator = {counted_malloc, counted_realloc,
                                                      counted_free};

// Expat would read /dev/urandom for every parser it creates; one seed per
// process, mixed with the parser's address, defeats hash flooding as well.
unsigned long hash_salt(const void* owner, std::uint64_t serial) {
  static const std::uint64_t seed =
      (std::uint64_t{std::random_device{}()} << 32) ^ std::random_device{}();
  std::uint64_t x = seed ^ reinterpret_cast<std::uintptr_t>(owner) ^ (serial << 48);
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;  // splitmix64 finaliser
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return static_cast<unsigned long>(x | 1);  // 0 would make expat pick its own
}

// --- Names --------------------------------------------------------------------

struct ExpandedName {
  std::string_view uri;
  std::string_view local;
  std::string_view prefix;
};

// Expat reports "uri\1local\1prefix", "uri\1local" (default namespace) or
// "local" (no namespace).
ExpandedName split_name(const XML_Char* name) {
  std::string_view s(name);
  std::size_t a = s.find(kNsSeparator[0]);
  if (a == std::string_view::npos) return {{}, s, {}};
  std::size_t b = s.find(kNsSeparator[0], a + 1);
  if (b == std::string_view::npos) return {s.substr(0, a), s.substr(a + 1), {}};
  return {s.substr(0, a), s.substr(a + 1, b - a - 1), s.substr(b + 1)};
}

std::string attribute_name(const ExpandedName& n) {
  std::string out;
  if (n.uri.empty()) {
    out = n.local;
  } else if (n.uri == ns::kXml) {
    out.reserve(4 + n.local.size());
    out.append("xml:").append(n.local);
  } else {
    out.reserve(2 + n.uri.size() + n.local.size());
    out.append("{").append(n.uri).append("}").append(n.local);
  }
  return out;
}

void copy_attributes(Element& el, const XML_Char** atts) {
  for (std::size_t i = 0; atts[i]; i += 2) {
    el.set_attr(attribute_name(split_name(atts[i])), atts[i + 1]);
  }
}

// Empties a container and gives its heap block back (clear() and `= {}` keep
// the capacity).
template <typename T>
void release(T& c) {
  T().swap(c);
}

bool is_xml_space(std::string_view s) {
  for (char c : s) {
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return false;
  }
  return true;
}

}  // namespace

const char* condition_name(ParseError e) {
  switch (e) {
    case ParseError::kNotWellFormed:
      return "not-well-formed";
    case ParseError::kRestrictedXml:
      return "restricted-xml";
    case ParseError::kPolicyViolation:
      return "policy-violation";
    case ParseError::kBadNamespacePrefix:
      return "bad-namespace-prefix";
    case ParseError::kUnsupportedEncoding:
      return "unsupported-encoding";
    case ParseError::kInvalidNamespace:
      return "invalid-namespace";
    case ParseError::kBadFormat:
      return "bad-format";
  }
  return "undefined-condition";
}

struct StreamParser::Impl {
  enum class State : std::uint8_t { kHeader, kStream, kDone };

  explicit Impl(ParserLimits l) : limits(l) {}
  ~Impl() { drop_expat(); }

  ParserLimits limits;
  XML_Parser expat = nullptr;
  std::size_t expat_bytes = 0;  // what expat holds, charged by the counting allocator
  std::uint64_t expat_serial = 0;
  State state = State::kHeader;
  bool suspended = false;       // expat stopped after an event; its buffer may hold more
  bool in_expat = false;        // inside a call into expat (handlers may stop it)
  bool stop_requested = false;  // XML_StopParser already called during this call
  bool priming = false;         // expat is reading our synthetic header, not the peer
  bool activity = false;
  std::size_t depth = 0;  // open elements, stream root included
  std::size_t decls = 0;  // namespace declarations seen for the element being opened

  // Absolute offsets count peer bytes since the last reset.
  std::uint64_t fed = 0;   // handed to expat
  std::uint64_t mark = 0;  // first byte not yet turned into an event (or current stanza start)
  std::uint64_t base = 0;  // offset of the first peer byte the current expat saw
  std::size_t prime_len = 0;

  std::vector<StreamEvent> queue;
  std::string pending;  // fed, not yet handed to expat
  std::size_t pending_pos = 0;
  // The stream header's name and namespace declarations, as a start tag
  // that re-opens the stream in a fresh expat after a release.
  std::string prime;
  std::string content_ns;  // default namespace of the header being parsed
  Element stanza;
  std::vector<Element*> open;  // stanza's open elements, innermost last

  // --- Plumbing -------------------------------------------------------------

  std::uint64_t to_abs(XML_Index i) const {
    return base + static_cast<std::uint64_t>(i) - prime_len;
  }
  std::uint64_t event_start() const { return to_abs(XML_GetCurrentByteIndex(expat)); }
  std::uint64_t event_end() const {
    return event_start() + static_cast<std::uint64_t>(XML_GetCurrentByteCount(expat));
  }

  void fail(ParseError e, std::string detail) {
    if (state == State::kDone) return;
    queue.push_back(StreamFailure{e, std::move(detail)});
    finish();
  }

  void finish() {
    state = State::kDone;
    if (in_expat) XML_StopParser(expat, XML_FALSE);
  }

  // Stops expat after the current token so the caller sees this event before
  // anything after it is interpreted.
  void pause() {
    if (in_expat && !stop_requested) {
      stop_requested = true;
      XML_StopParser(expat, XML_TRUE);
    }
  }

  std::size_t expat_cap() const { return 4 * limits.max_stanza_bytes + 64 * 1024; }

  bool over_stanza_limit(std::uint64_t end) {
    if (end - mark <= limits.max_stanza_bytes) return false;
    fail(ParseError::kPolicyViolation,
         "stanza larger than " + std::to_string(limits.max_stanza_bytes) + " bytes");
    return true;
  }

  void drop_expat() {
    if (expat) {
      AccountScope account(&expat_bytes);
      XML_ParserFree(expat);
      expat = nullptr;
    }
    suspended = false;
  }

  // Nothing more will be parsed: give the memory back now.
  void discard() {
    drop_expat();
    release(pending);
    pending_pos = 0;
    stanza = Element();
    release(prime);
    release(open);
    release(queue);
  }

  bool create_expat();
  void call_expat(bool resume, const char* data, std::size_t len);
  void after_call(XML_Status status);
  void fail_from_expat();
  void release_if_quiet();

  // --- Handlers -------------------------------------------------------------

  void on_start(const XML_Char* name, const XML_Char** atts);
  void on_end();
  void on_text(std::string_view text);
  void open_stream(const XML_Char* name, const XML_Char** atts);

  static Impl& self(void* user) { return *static_cast<Impl*>(user); }

  static void start_cb(void* u, const XML_Char* name, const XML_Char** atts) {
    self(u).on_start(name, atts);
  }
  static void end_cb(void* u, const XML_Char*) { self(u).on_end(); }
  static void text_cb(void* u, const XML_Char* s, int len) {
    self(u).on_text(std::string_view(s, static_cast<std::size_t>(len)));
  }
  static void ns_start_cb(void* u, const XML_Char* prefix, const XML_Char* uri) {
    Impl& m = self(u);
    if (m.state == State::kDone) return;
    ++m.decls;
    if (m.priming || m.depth != 0) return;
    // Declarations on the stream header: keep them for re-opening the stream.
    if (!prefix) m.content_ns = uri ? uri : "";
    if (!uri || !*uri) return;
    m.prime += " xmlns";
    if (prefix) m.prime.append(":").append(prefix);
    m.prime += "='";
    append_escaped_attr(m.prime, uri);
    m.prime += '\'';
  }
  static void xml_decl_cb(void* u, const XML_Char*, const XML_Char* encoding, int) {
    if (encoding && strcasecmp(encoding, "UTF-8") != 0) {
      self(u).fail(ParseError::kUnsupportedEncoding, std::string("encoding ") + encoding);
    }
  }
  static void doctype_cb(void* u, const XML_Char*, const XML_Char*, const XML_Char*, int) {
    self(u).fail(ParseError::kRestrictedXml, "document type declaration");
  }
  static void entity_decl_cb(void* u, const XML_Char*, int, const XML_Char*, int, const XML_Char*,
                             const XML_Char*, const XML_Char*, const XML_Char*) {
    self(u).fail(ParseError::kRestrictedXml, "entity declaration");
  }
  static void skipped_entity_cb(void* u, const XML_Char*, int) {
    self(u).fail(ParseError::kRestrictedXml, "entity reference");
  }
  static void pi_cb(void* u, const XML_Char*, const XML_Char*) {
    self(u).fail(ParseError::kRestrictedXml, "processing instruction");
  }
  static void comment_cb(void* u, const XML_Char*) {
    self(u).fail(ParseError::kRestrictedXml, "comment");
  }
};

bool StreamParser::Impl::create_expat() {
  {
    AccountScope account(&expat_bytes);
    expat = XML_ParserCreate_MM("UTF-8", &kCountingAllocator, kNsSeparator);
  }
  if (!expat) {
    fail(ParseError::kPolicyViolation, "out of memory creating the XML parser");
    return false;
  }
  XML_SetUserData(expat, this);
  XML_SetReturnNSTriplet(expat, XML_TRUE);
  XML_SetHashSalt(expat, hash_salt(this, ++expat_serial));
  XML_SetParamEntityParsing(expat, XML_PARAM_ENTITY_PARSING_NEVER);
  XML_SetElementHandler(expat, start_cb, end_cb);
  XML_SetCharacterDataHandler(expat, text_cb);
  XML_SetStartNamespaceDeclHandler(expat, ns_start_cb);
  XML_SetXmlDeclHandler(expat, xml_decl_cb);
  XML_SetStartDoctypeDeclHandler(expat, doctype_cb);
  XML_SetEntityDeclHandler(expat, entity_decl_cb);
  XML_SetSkippedEntityHandler(expat, skipped_entity_cb);
  XML_SetProcessingInstructionHandler(expat, pi_cb);
  XML_SetCommentHandler(expat, comment_cb);

  base = fed;
  prime_len = 0;
  if (state != State::kStream) return true;
  // Re-open the stream: the same root name and namespace declarations as
  // the peer's header, so its stanzas and its </stream:stream> read the same.
  prime_len = prime.size();
  priming = true;
  XML_Status status;
  {
    AccountScope account(&expat_bytes);
    status = XML_Parse(expat, prime.data(), static_cast<int>(prime.size()), XML_FALSE);
  }
  priming = false;
  if (status != XML_STATUS_OK || depth != 1) {
    fail(ParseError::kNotWellFormed, "internal: cannot re-open the stream");
    return false;
  }
  return true;
}

void StreamParser::Impl::call_expat(bool resume, const char* data, std::size_t len) {
  XML_Status status;
  {
    AccountScope account(&expat_bytes);
    in_expat = true;
    stop_requested = false;
    status =
        resume ? XML_ResumeParser(expat) : XML_Parse(expat, data, static_cast<int>(len), XML_FALSE);
    in_expat = false;
  }
  after_call(status);
}

void StreamParser::Impl::after_call(XML_Status status) {
  switch (status) {
    case XML_STATUS_SUSPENDED:
      suspended = true;
      return;
    case XML_STATUS_ERROR:
      if (state != State::kDone) fail_from_expat();  // else we aborted it ourselves
      return;
    case XML_STATUS_OK:
      break;
  }
  if (state == State::kDone) return;
  // Everything fed is with expat now. Whatever it has not turned into an
  // event yet belongs to one unfinished header or stanza: bound it here, so
  // a tag or text that never ends cannot make us buffer without limit.
  std::size_t limit =
      state == State::kHeader ? limits.max_header_bytes + kPreHeaderSlack : limits.max_stanza_bytes;
  if (fed - mark > limit) {
    fail(ParseError::kPolicyViolation,
         state == State::kHeader ? "stream header too large"
                                 : "stanza larger than " + std::to_string(limit) + " bytes");
  } else if (expat_bytes > expat_cap()) {
    fail(ParseError::kPolicyViolation, "XML parser memory over its cap");
  }
}

void StreamParser::Impl::fail_from_expat() {
  XML_Error code = XML_GetErrorCode(expat);
  std::string detail = std::string("expat: ") + XML_ErrorString(code) + " at line " +
                       std::to_string(XML_GetCurrentLineNumber(expat)) + " column " +
                       std::to_string(XML_GetCurrentColumnNumber(expat));
  switch (code) {
    case XML_ERROR_UNBOUND_PREFIX:
      fail(ParseError::kBadNamespacePrefix, std::move(detail));
      break;
    case XML_ERROR_MISPLACED_XML_PI:  // "<?xml" after the start: a processing instruction
      fail(ParseError::kRestrictedXml, std::move(detail));
      break;
    case XML_ERROR_NO_MEMORY:
      fail(ParseError::kPolicyViolation, std::move(detail));
      break;
    default:
      fail(ParseError::kNotWellFormed, std::move(detail));
      break;
  }
}

void StreamParser::Impl::release_if_quiet() {
  // Quiet: inside the stream, between stanzas, every byte fed accounted for
  // by an event; a fresh expat primed with the header continues seamlessly.
  if (!expat || state != State::kStream || suspended || depth != 1 || fed != mark) return;
  if (!limits.release_when_idle && expat_bytes <= kTrimExpatBytes) return;
  drop_expat();
  release(open);
  release(queue);
}

void StreamParser::Impl::on_start(const XML_Char* name, const XML_Char** atts) {
  if (state == State::kDone) return;
  std::size_t declared = std::exchange(decls, 0);
  if (priming) {
    depth = 1;
    return;
  }
  std::size_t count = declared;
  for (std::size_t i = 0; atts[i]; i += 2) ++count;
  if (count > limits.max_attributes) {
    fail(ParseError::kPolicyViolation, "more than " + std::to_string(limits.max_attributes) +
                                           " attributes and namespace declarations");
    return;
  }
  if (depth == 0) {
    open_stream(name, atts);
    return;
  }
  if (depth > limits.max_depth) {
    fail(ParseError::kPolicyViolation,
         "elements nested deeper than " + std::to_string(limits.max_depth));
    return;
  }
  if (depth == 1) mark = event_start();  // a stanza begins
  if (over_stanza_limit(event_end())) return;
  if (expat_bytes > expat_cap()) {
    fail(ParseError::kPolicyViolation, "XML parser memory over its cap");
    return;
  }
  ExpandedName n = split_name(name);
  if (depth == 1) {
    stanza = Element(std::string(n.local), std::string(n.uri));
    copy_attributes(stanza, atts);
    open.push_back(&stanza);
  } else {
    Element& child = open.back()->add_child(Element(std::string(n.local), std::string(n.uri)));
    copy_attributes(child, atts);
    open.push_back(&child);
  }
  ++depth;
}

void StreamParser::Impl::open_stream(const XML_Char* name, const XML_Char** atts) {
  if (static_cast<std::size_t>(XML_GetCurrentByteCount(expat)) > limits.max_header_bytes) {
    fail(ParseError::kPolicyViolation,
         "stream header larger than " + std::to_string(limits.max_header_bytes) + " bytes");
    return;
  }
  ExpandedName n = split_name(name);
  if (n.local != "stream") {
    fail(ParseError::kBadFormat, "root element is <" + std::string(n.local) + ">");
    return;
  }
  if (n.uri != ns::kStreams) {
    fail(ParseError::kInvalidNamespace, "stream namespace is '" + std::string(n.uri) + "'");
    return;
  }
  Element header("stream", ns::kStreams);
  copy_attributes(header, atts);
  std::string qname = n.prefix.empty() ? "stream" : std::string(n.prefix) + ":stream";
  prime = "<" + qname + prime + ">";
  prime.shrink_to_fit();
  queue.push_back(StreamOpen{std::move(header), std::move(content_ns)});
  content_ns = std::string();
  state = State::kStream;
  depth = 1;
  mark = event_end();
  pause();
}

void StreamParser::Impl::on_end() {
  if (state == State::kDone || priming) return;
  --depth;
  if (depth == 0) {
    queue.push_back(StreamClose{});
    finish();
    return;
  }
  if (depth > 1) {
    open.pop_back();
    return;
  }
  if (over_stanza_limit(event_end())) return;
  queue.push_back(StreamStanza{std::move(stanza)});
  stanza = Element();
  open.clear();
  mark = event_end();
  pause();
}

void StreamParser::Impl::on_text(std::string_view text) {
  if (state == State::kDone || priming) return;
  if (depth == 1) {
    // Between stanzas only whitespace (keepalives) is meaningful XMPP.
    if (!is_xml_space(text)) {
      fail(ParseError::kBadFormat, "text at stream level");
      return;
    }
    mark = event_end();
    return;
  }
  if (over_stanza_limit(event_end())) return;
  open.back()->add_text(text);
}

StreamParser::StreamParser(ParserLimits limits) : impl_(std::make_unique<Impl>(limits)) {}

StreamParser::~StreamParser() = default;

void StreamParser::feed(std::string_view bytes) {
  Impl& m = *impl_;
  if (bytes.empty() || m.state == Impl::State::kDone) return;
  m.activity = true;
  if (m.pending_pos == m.pending.size()) {
    m.pending.clear();
    m.pending_pos = 0;
  }
  m.pending.append(bytes);
}

std::optional<StreamEvent> StreamParser::next() {
  Impl& m = *impl_;
  for (;;) {
    if (!m.queue.empty()) {
      StreamEvent ev = std::move(m.queue.front());
      m.queue.erase(m.queue.begin());
      if (m.state == Impl::State::kDone && m.queue.empty()) m.discard();
      return ev;
    }
    if (m.state == Impl::State::kDone) {
      m.discard();
      return std::nullopt;
    }
    if (m.suspended) {
      m.suspended = false;
      m.call_expat(true, nullptr, 0);
      continue;
    }
    if (m.pending_pos == m.pending.size()) {
      release(m.pending);
      m.pending_pos = 0;
      m.release_if_quiet();
      return std::nullopt;
    }
    std::size_t len = std::min(kMaxChunk, m.pending.size() - m.pending_pos);
    const char* data = m.pending.data() + m.pending_pos;
    if (!m.expat && m.state == Impl::State::kStream && is_xml_space(std::string_view(data, len))) {
      // A keepalive on a quiet stream: no need to wake expat for it.
      m.pending_pos += len;
      m.fed += len;
      m.mark = m.fed;
      continue;
    }
    if (!m.expat && !m.create_expat()) continue;
    m.pending_pos += len;
    m.fed += len;
    m.call_expat(false, data, len);
  }
}

void StreamParser::reset() {
  ParserLimits limits = impl_->limits;
  impl_ = std::make_unique<Impl>(limits);
}

bool StreamParser::saw_activity() { return std::exchange(impl_->activity, false); }

std::size_t StreamParser::memory_usage() const {
  const Impl& m = *impl_;
  auto heap = [](const std::string& s) { return s.capacity() > 15 ? s.capacity() + 1 : 0; };
  return sizeof(Impl) + m.expat_bytes + heap(m.pending) + heap(m.prime) + heap(m.content_ns) +
         m.open.capacity() * sizeof(Element*) + m.queue.capacity() * sizeof(StreamEvent);
}

}  // namespace tern::xml
