#include "xml/stream_parser.h"

#include <expat.h>
#include <malloc.h>
#include <strings.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <random>
#include <utility>
#include <vector>

#include "xmpp/namespaces.h"
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
// Expat re-reads an unfinished token from its start whenever bytes arrive,
// so a tag trickled in one byte at a time costs time quadratic in its size.
// Re-reading is allowed up to this many times the token's size (plus the
// slack); real peers, who send whole TCP segments, stay far below.
constexpr std::uint64_t kRescanFactor = 256;
constexpr std::uint64_t kRescanSlack = 64 * 1024;
// Bytes handed to expat per call. Expat's buffer grows to the largest piece
// it was given and never shrinks; small pieces keep a parser near its ~11 KiB
// baseline (so it stays under kTrimExpatBytes and can be pooled), and a huge
// feed is checked against the limits piece by piece.
constexpr std::size_t kMaxChunk = 2048;

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

// XML forbids duplicate attributes (expat checks, after namespace
// expansion), so they can go into the element as they come.
Element make_element(const ExpandedName& n, const XML_Char** atts, std::size_t count) {
  std::vector<Attribute> attrs;
  attrs.reserve(count);
  for (std::size_t i = 0; atts[i]; i += 2) {
    attrs.push_back(Attribute{attribute_name(split_name(atts[i])), atts[i + 1]});
  }
  return Element(std::string(n.local), std::string(n.uri), std::move(attrs));
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

  Impl(ParserLimits l, ParserPool* p) : limits(l), pool(p) {}
  ~Impl() { drop_expat(); }

  ParserLimits limits;
  ParserPool* pool;
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
  std::uint64_t held = 0;         // bytes expat holds as an unfinished token
  std::uint64_t rescan_cost = 0;  // bytes re-read so far for that token

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
  bool borrow_expat();
  void call_expat(bool resume, const char* data, std::size_t len);
  void after_call(XML_Status status);
  void fail_from_expat();
  void release_if_quiet();

  // --- Handlers -------------------------------------------------------------

  void on_start(const XML_Char* name, const XML_Char** atts);
  void on_end();
  void on_text(std::string_view text);
  void open_stream(const XML_Char* name, const XML_Char** atts, std::size_t count);

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

bool StreamParser::Impl::borrow_expat() {
  if (!pool || state != State::kStream) return false;
  auto& idle = pool->idle_;
  for (auto it = idle.rbegin(); it != idle.rend(); ++it) {
    if (it->prime != prime) continue;
    expat = it->parser;
    expat_bytes = it->bytes;
    idle.erase(std::next(it).base());
    XML_SetUserData(expat, this);
    // Its previous user left it quiet, so its position is just past the
    // last byte it read; ours continue from there.
    base = fed;
    prime_len = static_cast<std::size_t>(XML_GetCurrentByteIndex(expat));
    held = 0;
    rescan_cost = 0;
    return true;
  }
  return false;
}

bool StreamParser::Impl::create_expat() {
  if (borrow_expat()) return true;
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
#if XML_MAJOR_VERSION > 2 || (XML_MAJOR_VERSION == 2 && XML_MINOR_VERSION >= 6)
  // Deferral could hold back the end of a stanza until more bytes come,
  // which on a stream may be never; re-reading is bounded by rescan_cost.
  XML_SetReparseDeferralEnabled(expat, XML_FALSE);
#endif
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
  held = 0;
  rescan_cost = 0;
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
  if (!resume) {
    rescan_cost = held ? rescan_cost + held : 0;
    if (rescan_cost > kRescanFactor * held + kRescanSlack) {
      fail(ParseError::kPolicyViolation, "a tag sent in too many small pieces");
      return;
    }
  }
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
  // Outside handlers expat reports the position just past its last event:
  // what lies beyond is an unfinished token it will re-read.
  XML_Index consumed = XML_GetCurrentByteIndex(expat);
  held = consumed < 0 ? 0 : fed - to_abs(consumed);
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
  // Expat's line numbers count the synthetic header and, for a pooled
  // parser, other streams' bytes; our own offset does not.
  std::string detail = std::string("expat: ") + XML_ErrorString(code);
  XML_Index at = XML_GetCurrentByteIndex(expat);
  if (at >= 0 && static_cast<std::uint64_t>(at) >= prime_len) {
    detail += " at byte " + std::to_string(to_abs(at));
  }
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
  if (pool && expat_bytes <= kTrimExpatBytes && pool->idle_.size() < pool->max_idle_) {
    pool->idle_.push_back(ParserPool::Idle{expat, prime, expat_bytes});
    expat = nullptr;
    expat_bytes = 0;
  } else {
    drop_expat();
  }
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
  std::size_t count = 0;
  while (atts[2 * count]) ++count;
  if (count + declared > limits.max_attributes) {
    fail(ParseError::kPolicyViolation, "more than " + std::to_string(limits.max_attributes) +
                                           " attributes and namespace declarations");
    return;
  }
  if (depth == 0) {
    open_stream(name, atts, count);
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
  Element el = make_element(split_name(name), atts, count);
  if (depth == 1) {
    stanza = std::move(el);
    open.push_back(&stanza);
  } else {
    open.push_back(&open.back()->add_child(std::move(el)));
  }
  ++depth;
}

void StreamParser::Impl::open_stream(const XML_Char* name, const XML_Char** atts,
                                     std::size_t count) {
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
  Element header = make_element(n, atts, count);
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

ParserPool::~ParserPool() {
  std::size_t account = 0;
  AccountScope scope(&account);
  for (Idle& i : idle_) XML_ParserFree(i.parser);
}

std::size_t ParserPool::memory_usage() const {
  std::size_t total = idle_.capacity() * sizeof(Idle);
  for (const Idle& i : idle_) total += i.bytes + i.prime.capacity() + 1;
  return total;
}

StreamParser::StreamParser(ParserLimits limits, ParserPool* pool)
    : impl_(std::make_unique<Impl>(limits, pool)) {}

StreamParser::~StreamParser() = default;

void StreamParser::feed(std::string_view bytes) {
  if (!impl_) return;  // moved from
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
  if (!impl_) return std::nullopt;  // moved from
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
  if (impl_) impl_ = std::make_unique<Impl>(impl_->limits, impl_->pool);
}

bool StreamParser::saw_activity() { return impl_ && std::exchange(impl_->activity, false); }

std::size_t StreamParser::memory_usage() const {
  if (!impl_) return 0;
  const Impl& m = *impl_;
  auto heap = [](const std::string& s) { return s.capacity() > 15 ? s.capacity() + 1 : 0; };
  return sizeof(Impl) + m.expat_bytes + heap(m.pending) + heap(m.prime) + heap(m.content_ns) +
         m.open.capacity() * sizeof(Element*) + m.queue.capacity() * sizeof(StreamEvent);
}

}  // namespace tern::xml
