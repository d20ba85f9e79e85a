// JID parsing and normalisation.
//
// Addressing rules follow RFC 7622 §3 (how a JID splits into parts, lengths,
// IP literals), but each part is prepared with the RFC 6122 stringprep
// profiles (through libidn) rather than PRECIS: that is what Prosody,
// ejabberd and most deployed clients still do, and two servers that
// disagree on what a JID normalises to cannot deliver to each other. Where
// the two RFCs differ on an example (ß, Ⅳ, ♚ in a localpart), the RFC 6122
// result wins; tests/unit/xmpp/jid_test.cc lists each case.
//
// The router parses a JID out of every stanza's 'to' and 'from', and nearly
// all of them are plain ASCII, so each part has an ASCII fast path that
// reproduces what the profile would do (lower-casing, the prohibited
// characters) without calling libidn. Anything with a byte >= 0x80 takes
// the libidn path.
#include "xmpp/jid.h"

#include <arpa/inet.h>
#include <punycode.h>
#include <stringprep.h>

#include <array>
#include <cstring>
#include <vector>

namespace tern::xmpp {
namespace {

// RFC 7622 §3.1: every part is 1..1023 octets once prepared.
constexpr std::size_t kMaxPartBytes = 1023;
// Preparation can shrink a part (characters mapped to nothing, NFKC
// composition), so the raw input may legitimately be longer than 1023
// bytes; but nothing a real client sends is four times longer than the
// result. Bounding the raw size bounds the work an attacker can cause per
// address and lets the libidn path use a stack buffer.
constexpr std::size_t kMaxRawPartBytes = 4 * kMaxPartBytes;
// A DNS label is at most 63 octets (RFC 1035 §2.3.4); for a non-ASCII label
// that is its ACE form "xn--" + punycode.
constexpr std::size_t kMaxLabelBytes = 63;

constexpr char ascii_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c;
}

constexpr bool is_ascii_control(unsigned char c) { return c < 0x20 || c == 0x7f; }

// Decodes strict UTF-8 (no overlong forms, no surrogates, nothing above
// U+10FFFF), handing each code point to `sink`, which returns false to stop.
template <typename Sink>
bool decode_utf8(std::string_view s, Sink&& sink) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    std::uint32_t cp;
    std::size_t len;
    if (b0 < 0x80) {
      cp = b0;
      len = 1;
    } else if (b0 >= 0xc2 && b0 <= 0xdf) {
      cp = b0 & 0x1f;
      len = 2;
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
      cp = b0 & 0x0f;
      len = 3;
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
      cp = b0 & 0x07;
      len = 4;
    } else {
      return false;  // continuation byte first, or 0xc0/0xc1/0xf5+ (never valid)
    }
    if (s.size() - i < len) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (b & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)) return false;  // overlong
    if (cp >= 0xd800 && cp <= 0xdfff) return false;                            // surrogate
    if (cp > 0x10ffff) return false;
    if (!sink(cp)) return false;
    i += len;
  }
  return true;
}

bool is_valid_utf8(std::string_view s) {
  return decode_utf8(s, [](std::uint32_t) { return true; });
}

// Runs one stringprep profile over `in`. Rejects invalid UTF-8, NUL (libidn
// works on C strings, so a NUL would silently truncate), results longer than
// kMaxPartBytes, and results that the profile would change again.
//
// The last check exists because stringprep is not idempotent for every
// input (NFKC after case folding can produce strings that fold again). A
// server that stores "prep(x)" and later compares it with "prep(prep(x))"
// (an address echoed back by a client, a roster item read from storage)
// would see two different JIDs for one account, so such inputs are refused
// instead: no real name needs them.
bool run_stringprep(std::string_view in, const Stringprep_profile* profile, std::string& out) {
  if (in.size() > kMaxRawPartBytes) return false;
  if (in.find('\0') != std::string_view::npos) return false;
  if (!is_valid_utf8(in)) return false;

  std::array<char, kMaxRawPartBytes + 1> buf;
  // stringprep() works in place; the buffer needs to hold the input, and an
  // output that does not fit in kMaxPartBytes is too long anyway.
  const std::size_t cap = std::max(in.size(), kMaxPartBytes) + 1;
  std::memcpy(buf.data(), in.data(), in.size());
  buf[in.size()] = '\0';
  if (stringprep(buf.data(), cap, Stringprep_profile_flags(0), profile) != STRINGPREP_OK) {
    return false;
  }
  const std::size_t n = std::strlen(buf.data());
  if (n > kMaxPartBytes) return false;
  out.assign(buf.data(), n);
  // Idempotence check (see above). When preparation changed nothing, the
  // result is trivially stable: most non-ASCII addresses arrive already
  // prepared, and libidn costs microseconds per call.
  if (out == in) return true;
  if (stringprep(buf.data(), cap, Stringprep_profile_flags(0), profile) != STRINGPREP_OK) {
    return false;
  }
  return out == buf.data();
}

// What the ASCII fast path of a part concluded.
enum class Fast { kOk, kInvalid, kNotAscii };

// Per-byte tables for the fast paths: the prepared byte, or 0 when the byte
// is refused. Bytes >= 0x80 map to kNonAscii (hand over to libidn).
constexpr unsigned char kNonAscii = 0x80;
using ByteTable = std::array<unsigned char, 256>;

// nodeprep on ASCII is exactly: lower-case A-Z; refuse controls (RFC 3454
// C.2.1), space (C.1.1) and " & ' / : < > @ (RFC 6122 appendix A.5).
// Nothing in ASCII is mapped to nothing, changed by NFKC, or RTL.
constexpr ByteTable make_node_table() {
  ByteTable t{};
  for (int c = 0; c < 256; ++c) {
    if (c >= 0x80) {
      t[c] = kNonAscii;
    } else if (is_ascii_control(static_cast<unsigned char>(c))) {
      t[c] = 0;
    } else {
      t[c] = static_cast<unsigned char>(ascii_lower(static_cast<char>(c)));
    }
  }
  for (char c : {' ', '"', '&', '\'', '/', ':', '<', '>', '@'})
    t[static_cast<unsigned char>(c)] = 0;
  return t;
}

// resourceprep on ASCII only refuses controls: no case folding, and space
// is allowed (RFC 6122 appendix B.3; RFC 7622 erratum 4560 withdraws
// "juliet@example.com/ foo" from its invalid examples for that reason).
constexpr ByteTable make_resource_table() {
  ByteTable t{};
  for (int c = 0; c < 256; ++c) {
    t[c] = c >= 0x80 ? kNonAscii : is_ascii_control(static_cast<unsigned char>(c)) ? 0 : c;
  }
  return t;
}

// nameprep on ASCII only lower-cases; of the result, the host-name rules
// (see is_hostname) keep letters, digits, '-', '_' and the '.' separator.
constexpr ByteTable make_domain_table() {
  ByteTable t{};
  for (int c = 0; c < 256; ++c) {
    const char l = ascii_lower(static_cast<char>(c));
    if (c >= 0x80) {
      t[c] = kNonAscii;
    } else if ((l >= 'a' && l <= 'z') || (l >= '0' && l <= '9') || l == '-' || l == '_' ||
               l == '.') {
      t[c] = static_cast<unsigned char>(l);
    }
  }
  return t;
}

constexpr ByteTable kNodeTable = make_node_table();
constexpr ByteTable kResourceTable = make_resource_table();
constexpr ByteTable kDomainTable = make_domain_table();

// Maps `in` through `table` into `out` in one pass.
Fast map_ascii(std::string_view in, const ByteTable& table, std::string& out) {
  if (in.size() > kMaxPartBytes) {
    // ASCII never shrinks under any of the profiles, so the raw length is
    // the prepared length; only non-ASCII text can still be valid.
    for (unsigned char c : in) {
      if (c >= 0x80) return Fast::kNotAscii;
    }
    return Fast::kInvalid;
  }
  out.assign(in);          // copies rather than zero-fills, then maps in place
  char* dst = out.data();  // a local pointer: stores through it cannot alias `out`
  for (std::size_t i = 0; i < in.size(); ++i) {
    const unsigned char m = table[static_cast<unsigned char>(dst[i])];
    if (m == kNonAscii) return Fast::kNotAscii;
    if (m == 0) {
      // A refused ASCII byte: libidn would refuse it too, unless the part
      // also holds non-ASCII text (then let libidn decide the whole part,
      // e.g. invalid UTF-8 must still be reported as such).
      for (std::size_t k = i + 1; k < in.size(); ++k) {
        if (static_cast<unsigned char>(in[k]) >= 0x80) return Fast::kNotAscii;
      }
      return Fast::kInvalid;
    }
    dst[i] = static_cast<char>(m);
  }
  return Fast::kOk;
}

// A node or resource: ASCII through the table, the rest through libidn.
bool prep_part(std::string_view in, const ByteTable& table, const Stringprep_profile* profile,
               std::string& out) {
  if (in.empty()) return false;
  switch (map_ascii(in, table, out)) {
    case Fast::kOk:
      return true;
    case Fast::kInvalid:
      return false;
    case Fast::kNotAscii:
      break;
  }
  return run_stringprep(in, profile, out) && !out.empty();
}

bool prep_node(std::string_view in, std::string& out) {
  return prep_part(in, kNodeTable, stringprep_xmpp_nodeprep, out);
}

bool prep_resource(std::string_view in, std::string& out) {
  return prep_part(in, kResourceTable, stringprep_xmpp_resourceprep, out);
}

// Length of the ACE form ("xn--" + punycode) of a non-ASCII label, or 0 when
// it cannot be encoded or is certainly longer than a label may be.
std::size_t ace_label_length(std::string_view label) {
  // Every code point costs at least one ACE octet: more than 63 cannot fit.
  std::array<punycode_uint, kMaxLabelBytes> cps;
  std::size_t count = 0;
  const bool ok = decode_utf8(label, [&](std::uint32_t cp) {
    if (count == cps.size()) return false;
    cps[count++] = cp;
    return true;
  });
  if (!ok) return 0;
  std::array<char, kMaxLabelBytes + 1> buf;
  std::size_t len = buf.size();
  if (punycode_encode(count, cps.data(), nullptr, &len, buf.data()) != PUNYCODE_SUCCESS) {
    return 0;
  }
  return 4 + len;
}

// Host-name shape of a prepared domain (RFC 1034/1123, IDNA2003 ToASCII's
// length rule): non-empty labels of at most 63 octets (ACE form for IDN
// labels), ASCII limited to letters, digits, '-' and '_' (the underscore is
// not a host-name character, but deployed XMPP component names use it and
// it means nothing to any XMPP syntax, so it is tolerated). This is what
// keeps '@', '/', spaces and controls (which nameprep does not prohibit, or
// produces through NFKC, e.g. U+FF0F → '/') out of the domain, so that a
// prepared JID re-parses to itself.
//
// A domain made of digits and dots only is meant as an IPv4 literal
// (RFC 7622 §3.2) and must be a valid one: "1.2.3" or "256.0.0.1" is
// neither an address nor a plausible host name.
bool is_ipv4_literal(std::string_view d);

bool is_hostname(std::string_view d) {
  std::size_t label_start = 0;
  bool label_ascii = true;
  bool all_digits = true;
  for (std::size_t i = 0; i <= d.size(); ++i) {
    const unsigned char c = i < d.size() ? static_cast<unsigned char>(d[i]) : '.';
    if (c == '.') {
      const std::string_view label = d.substr(label_start, i - label_start);
      if (label.empty()) return false;
      const std::size_t len = label_ascii ? label.size() : ace_label_length(label);
      if (len == 0 || len > kMaxLabelBytes) return false;
      label_start = i + 1;
      label_ascii = true;
    } else if (c >= 0x80) {
      label_ascii = false;
      all_digits = false;
    } else if (c >= '0' && c <= '9') {
      // stays all_digits
    } else if ((c >= 'a' && c <= 'z') || c == '-' || c == '_') {
      all_digits = false;
    } else {
      return false;
    }
  }
  return !all_digits || is_ipv4_literal(d);
}

bool is_ipv4_literal(std::string_view d) {
  std::array<char, INET_ADDRSTRLEN> buf{};
  if (d.size() >= buf.size()) return false;
  std::memcpy(buf.data(), d.data(), d.size());
  in_addr addr;
  return inet_pton(AF_INET, buf.data(), &addr) == 1;
}

// "[v6]" → its canonical text form (inet_ntop), so that [0::1] and [::1]
// are one JID and the result re-parses to itself. IP literals are not
// passed through nameprep (RFC 7622 §3.2).
bool prep_ipv6_literal(std::string_view d, std::string& out) {
  if (d.size() < 3 || d.back() != ']') return false;
  const std::string_view inner = d.substr(1, d.size() - 2);
  std::array<char, INET6_ADDRSTRLEN> buf{};
  if (inner.size() >= buf.size()) return false;
  std::memcpy(buf.data(), inner.data(), inner.size());
  in6_addr addr;
  if (inet_pton(AF_INET6, buf.data(), &addr) != 1) return false;
  std::array<char, INET6_ADDRSTRLEN> canon{};
  if (inet_ntop(AF_INET6, &addr, canon.data(), canon.size()) == nullptr) return false;
  out.clear();
  out += '[';
  out += canon.data();
  out += ']';
  return true;
}

// is_hostname() for a domain that went through the ASCII fast path, whose
// bytes are already known to be host-name characters.
bool has_valid_ascii_labels(std::string_view d) {
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = d.find('.', start);
    const std::size_t end = dot == std::string_view::npos ? d.size() : dot;
    if (end == start || end - start > kMaxLabelBytes) return false;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  for (char c : d) {
    if (!((c >= '0' && c <= '9') || c == '.')) return true;
  }
  return is_ipv4_literal(d);
}

// IDNA2003 treats these as label separators; map them to '.' before
// nameprep so that "example。com" is example.com rather than a single
// label containing U+3002.
std::string map_ideographic_dots(std::string_view in) {
  std::string s(in);
  static constexpr std::string_view kDots[] = {
      "\xe3\x80\x82" /* U+3002 */, "\xef\xbc\x8e" /* U+FF0E */, "\xef\xbd\xa1" /* U+FF61 */};
  for (std::string_view dot : kDots) {
    for (std::size_t pos = s.find(dot); pos != std::string::npos; pos = s.find(dot, pos + 1)) {
      s.replace(pos, dot.size(), ".");
    }
  }
  return s;
}

bool prep_domain(std::string_view in, std::string& out) {
  // RFC 7622 §3.2: one trailing dot is stripped (the DNS root label).
  if (!in.empty() && in.back() == '.') in.remove_suffix(1);
  if (in.empty()) return false;
  if (in.front() == '[') return prep_ipv6_literal(in, out);

  switch (map_ascii(in, kDomainTable, out)) {
    case Fast::kOk:
      return has_valid_ascii_labels(out);
    case Fast::kInvalid:
      return false;
    case Fast::kNotAscii:
      if (!run_stringprep(map_ideographic_dots(in), stringprep_nameprep, out)) return false;
      break;
  }
  return !out.empty() && is_hostname(out);
}

}  // namespace

std::optional<Jid> Jid::parse(std::string_view text) {
  // RFC 7622 §3.1: the resource is everything after the first '/'; the node
  // is what precedes the first '@' before that '/'; the rest is the domain.
  const std::size_t slash = text.find('/');
  const std::string_view head = text.substr(0, slash);
  const std::size_t at = head.find('@');

  // Built in place: the parts are written straight into the returned
  // object (short parts stay in the strings' inline buffers: no allocation).
  std::optional<Jid> result(std::in_place);
  Jid& jid = *result;
  if (at != std::string_view::npos) {
    if (!prep_node(head.substr(0, at), jid.node_)) return std::nullopt;
  }
  const std::string_view domain = at == std::string_view::npos ? head : head.substr(at + 1);
  if (!prep_domain(domain, jid.domain_)) return std::nullopt;
  if (slash != std::string_view::npos) {
    if (!prep_resource(text.substr(slash + 1), jid.resource_)) return std::nullopt;
  }
  return result;
}

Jid Jid::from_parts(std::string node, std::string domain, std::string resource) {
  Jid jid;
  jid.node_ = std::move(node);
  jid.domain_ = std::move(domain);
  jid.resource_ = std::move(resource);
  return jid;
}

std::string Jid::bare_string() const {
  std::string s;
  s.reserve(node_.size() + 1 + domain_.size());
  if (!node_.empty()) {
    s += node_;
    s += '@';
  }
  s += domain_;
  return s;
}

std::string Jid::to_string() const {
  std::string s;
  s.reserve(node_.size() + domain_.size() + resource_.size() + 2);
  if (!node_.empty()) {
    s += node_;
    s += '@';
  }
  s += domain_;
  if (!resource_.empty()) {
    s += '/';
    s += resource_;
  }
  return s;
}

std::optional<std::string> nodeprep(std::string_view node) {
  std::string out;
  if (!prep_node(node, out)) return std::nullopt;
  return out;
}

std::optional<std::string> nameprep(std::string_view domain) {
  std::string out;
  if (!prep_domain(domain, out)) return std::nullopt;
  return out;
}

std::optional<std::string> resourceprep(std::string_view resource) {
  std::string out;
  if (!prep_resource(resource, out)) return std::nullopt;
  return out;
}

}  // namespace tern::xmpp

std::size_t std::hash<tern::xmpp::Jid>::operator()(const tern::xmpp::Jid& j) const noexcept {
  // Hash each part separately and mix, so that moving bytes between parts
  // ("a@bc" vs "ab@c") changes the hash.
  const std::hash<std::string_view> h;
  std::size_t seed = h(j.node());
  for (std::string_view part : {std::string_view(j.domain()), std::string_view(j.resource())}) {
    seed ^= h(part) + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2);
  }
  return seed;
}
