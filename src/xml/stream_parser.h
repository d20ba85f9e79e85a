// Streaming XML parser for one XMPP stream (expat underneath).
//
// Bytes go in with feed(); events come out one at a time with next(). The
// parser stops after each top-level event, so the stream layer can act on a
// stanza (e.g. <starttls/>, SASL <success/>) before any following byte is
// interpreted, and can restart the stream with reset().
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "xml/element.h"

struct XML_ParserStruct;  // expat's parser, for ParserPool

namespace tern::xml {

// Every violation ends the stream with kPolicyViolation. Besides these, expat
// may hold at most 4 * max_stanza_bytes + 64 KiB (it remembers every element
// name it has seen), and a tag may not be trickled in so many small pieces
// that re-reading it costs more than 256 times its size.
struct ParserLimits {
  // Bytes of one top-level element, from its '<' to its end tag, whitespace
  // around it excluded; also enforced while it is incomplete.
  std::size_t max_stanza_bytes = 262144;
  std::size_t max_depth = 64;           // element nesting below the stream root
  std::size_t max_attributes = 64;      // per element, namespace declarations included
  std::size_t max_header_bytes = 4096;  // the <stream:stream ...> open tag
  // Not a limit but a memory policy: free the expat parser whenever every
  // byte fed has been turned into events, and rebuild it from the saved
  // stream header when bytes arrive again. An idle parser then costs a few
  // hundred bytes instead of ~12 KiB; rebuilding costs about as much as
  // parsing a stanza, unless a ParserPool lends a parser already primed.
  bool release_when_idle = true;
};

// Why parsing stopped for good. Maps 1:1 to a stream error condition.
enum class ParseError {
  kNotWellFormed,        // not-well-formed
  kRestrictedXml,        // restricted-xml: DTD, entity decl, PI, comment
  kPolicyViolation,      // policy-violation: a limit was exceeded
  kBadNamespacePrefix,   // bad-namespace-prefix: undeclared prefix
  kUnsupportedEncoding,  // unsupported-encoding: not UTF-8
  kInvalidNamespace,     // invalid-namespace: root not in the streams namespace
  kBadFormat,            // bad-format: root is not <stream>, text at stream level
};
const char* condition_name(ParseError e);  // "not-well-formed", …

struct StreamOpen {
  Element header;  // name "stream" in ns kStreams; attributes as sent (xml:lang kept)
  // The default namespace declared on the header ("jabber:client" …), empty if none.
  std::string content_ns;
};
struct StreamStanza {
  Element element;  // a complete top-level child of the stream root
};
struct StreamClose {};
struct StreamFailure {
  ParseError error;
  std::string detail;  // for the log line, not for the peer
};
using StreamEvent = std::variant<StreamOpen, StreamStanza, StreamClose, StreamFailure>;

// Expat parsers set aside by quiet StreamParsers of one thread, each ready to
// go on with any stream opened by an identical header (nearly all c2s streams
// are): borrowing one is far cheaper than building and priming a new one.
// Not thread-safe: one pool per shard, outliving the parsers that use it.
class ParserPool {
 public:
  explicit ParserPool(std::size_t max_idle = 64) : max_idle_(max_idle) {}
  ~ParserPool();
  ParserPool(const ParserPool&) = delete;
  ParserPool& operator=(const ParserPool&) = delete;

  std::size_t idle_count() const { return idle_.size(); }
  std::size_t memory_usage() const;  // heap bytes held by the idle parsers

 private:
  friend class StreamParser;
  struct Idle {
    XML_ParserStruct* parser;
    std::string prime;  // the stream header it was primed with
    std::size_t bytes;  // its heap bytes, handed back to the next user's account
  };
  std::size_t max_idle_;
  std::vector<Idle> idle_;
};

class StreamParser {
 public:
  // With a pool, the parser parks expat there while quiet and borrows one
  // when bytes arrive again.
  explicit StreamParser(ParserLimits limits = {}, ParserPool* pool = nullptr);
  ~StreamParser();
  StreamParser(const StreamParser&) = delete;
  StreamParser& operator=(const StreamParser&) = delete;

  // Appends bytes. Call next() until it returns nullopt before feeding more.
  void feed(std::string_view bytes);
  // The next complete event, or nullopt when more bytes are needed. After a
  // StreamFailure or StreamClose, always returns nullopt.
  std::optional<StreamEvent> next();
  // Forgets everything (for a stream restart after STARTTLS or SASL). Bytes
  // fed but not yet parsed are dropped: a client must wait for <proceed/> or
  // <success/> before sending more, so there are none in a correct stream.
  void reset();
  // Whether any bytes were fed since the last call, whitespace keepalives
  // included, so the stream layer can refresh idle timers without an event
  // per space.
  bool saw_activity();
  // Heap bytes this parser holds right now, expat included (for metrics and
  // the memory budget tests).
  std::size_t memory_usage() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tern::xml
