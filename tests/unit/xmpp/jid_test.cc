#include "xmpp/jid.h"

#include <gtest/gtest.h>
#include <stringprep.h>

#include <time.h>

#include <cstdio>
#include <string>
#include <unordered_set>

namespace tern::xmpp {
namespace {

struct Parts {
  std::string node, domain, resource;
};

// Parses and returns the parts, or fails the test.
Parts parts_of(std::string_view text) {
  auto jid = Jid::parse(text);
  EXPECT_TRUE(jid.has_value()) << "should be valid: " << text;
  if (!jid) return {"<invalid>", "<invalid>", "<invalid>"};
  return {jid->node(), jid->domain(), jid->resource()};
}

bool operator==(const Parts& a, const Parts& b) {
  return a.node == b.node && a.domain == b.domain && a.resource == b.resource;
}
std::ostream& operator<<(std::ostream& os, const Parts& p) {
  return os << "{'" << p.node << "', '" << p.domain << "', '" << p.resource << "'}";
}

// --- RFC 7622 §3.5, valid examples --------------------------------------

TEST(JidParse, Rfc7622ValidExamples) {
  EXPECT_EQ(parts_of("juliet@example.com"), (Parts{"juliet", "example.com", ""}));
  EXPECT_EQ(parts_of("juliet@example.com/foo"), (Parts{"juliet", "example.com", "foo"}));
  EXPECT_EQ(parts_of("juliet@example.com/foo bar"), (Parts{"juliet", "example.com", "foo bar"}));
  EXPECT_EQ(parts_of("juliet@example.com/foo@bar"), (Parts{"juliet", "example.com", "foo@bar"}));
  EXPECT_EQ(parts_of("foo\\20bar@example.com"), (Parts{"foo\\20bar", "example.com", ""}));
  EXPECT_EQ(parts_of("fussball@example.com"), (Parts{"fussball", "example.com", ""}));
  EXPECT_EQ(parts_of("π@example.com"), (Parts{"π", "example.com", ""}));
  EXPECT_EQ(parts_of("σ@example.com/foo"), (Parts{"σ", "example.com", "foo"}));
  EXPECT_EQ(parts_of("king@example.com/♚"), (Parts{"king", "example.com", "♚"}));
  EXPECT_EQ(parts_of("example.com"), (Parts{"", "example.com", ""}));
  EXPECT_EQ(parts_of("example.com/foobar"), (Parts{"", "example.com", "foobar"}));
  EXPECT_EQ(parts_of("a.example.com/b@example.net"), (Parts{"", "a.example.com", "b@example.net"}));
}

// Where RFC 6122 nodeprep (what we implement, like Prosody and ejabberd)
// and RFC 7622 PRECIS disagree, these pin down what we do.
TEST(JidParse, NodeprepCaseFoldsWhereRfc7622WouldNot) {
  // ß: PRECIS keeps "fußball"; nodeprep's case folding (RFC 3454 B.2) maps
  // it to "ss", so fußball@ and fussball@ are one account.
  EXPECT_EQ(parts_of("fußball@example.com"), (Parts{"fussball", "example.com", ""}));
  // Σ lower-cases to σ under both.
  EXPECT_EQ(parts_of("Σ@example.com/foo"), (Parts{"σ", "example.com", "foo"}));
  // Final sigma: PRECIS keeps ς distinct; B.2 folds it to σ.
  EXPECT_EQ(parts_of("ς@example.com/foo"), (Parts{"σ", "example.com", "foo"}));
}

TEST(JidParse, Rfc7622InvalidExamplesThatNodeprepAccepts) {
  // RFC 7622 refuses ROMAN NUMERAL FOUR (U+2163) in a localpart; nodeprep
  // maps it (B.2 → U+2173, then NFKC) to "iv".
  EXPECT_EQ(parts_of("henryⅣ@example.com"), (Parts{"henryiv", "example.com", ""}));
  // RFC 7622 refuses symbols in a localpart; nodeprep allows U+265A.
  EXPECT_EQ(parts_of("♚@example.com"), (Parts{"♚", "example.com", ""}));
  // RFC 7622 listed a leading space in the resource as invalid, then
  // withdrew it (erratum 4560); resourceprep allows ASCII space anywhere.
  EXPECT_EQ(parts_of("juliet@example.com/ foo"), (Parts{"juliet", "example.com", " foo"}));
}

// --- RFC 7622 §3.5, invalid examples ------------------------------------

TEST(JidParse, Rfc7622InvalidExamples) {
  EXPECT_FALSE(Jid::parse("\"juliet\"@example.com"));
  EXPECT_FALSE(Jid::parse("foo bar@example.com"));
  EXPECT_FALSE(Jid::parse("@example.com/"));
  EXPECT_FALSE(Jid::parse("juliet@"));
  EXPECT_FALSE(Jid::parse("/foobar"));
}

TEST(JidParse, EmptyPartsWithSeparatorAreInvalid) {
  for (const char* text :
       {"", "@", "/", "@/", "@d", "n@", "d/", "/r", "n@/r", "n@d/", ".", "n@.", "n@./r"}) {
    EXPECT_FALSE(Jid::parse(text)) << text;
  }
}

TEST(JidParse, SplitsOnFirstSlashThenFirstAt) {
  // '@' after the first '/' belongs to the resource.
  EXPECT_EQ(parts_of("a/b@c"), (Parts{"", "a", "b@c"}));
  EXPECT_EQ(parts_of("n@d/r/s@t"), (Parts{"n", "d", "r/s@t"}));
  // A second '@' before the '/' lands in the domain, which refuses it.
  EXPECT_FALSE(Jid::parse("a@b@c"));
}

// --- node ---------------------------------------------------------------

TEST(JidParse, NodeIsLowerCased) {
  EXPECT_EQ(parts_of("JuLiEt@Example.COM/Balcony"), (Parts{"juliet", "example.com", "Balcony"}));
}

TEST(JidParse, NodeForbidsNodeprepAsciiSet) {
  for (const char* text : {"a\"b@d", "a&b@d", "a'b@d", "a:b@d", "a<b@d", "a>b@d", "a b@d",
                           "a\x01@d", "a\x7f@d", "a\tb@d"}) {
    EXPECT_FALSE(Jid::parse(text)) << text;
  }
}

TEST(JidParse, NodeForbidsCharactersThatNfkcTurnsIntoForbiddenOnes) {
  // FULLWIDTH COMMERCIAL AT and FULLWIDTH SOLIDUS become '@' and '/'.
  EXPECT_FALSE(
      Jid::parse("a\xef\xbc\xa0"
                 "b@example.com"));
  EXPECT_FALSE(
      Jid::parse("a\xef\xbc\x8f"
                 "b@example.com"));
}

TEST(JidParse, NodeNfkcFoldsFullwidthLetters) {
  EXPECT_EQ(parts_of("ＪＵＬＩＥＴ@example.com"), (Parts{"juliet", "example.com", ""}));
}

TEST(JidParse, NodeMappedToNothingIsRemovedAndEmptyResultIsInvalid) {
  // SOFT HYPHEN and ZERO WIDTH SPACE are mapped to nothing (RFC 3454 B.1).
  EXPECT_EQ(parts_of("ju\xc2\xad"
                     "liet@example.com"),
            (Parts{"juliet", "example.com", ""}));
  EXPECT_FALSE(Jid::parse("\xe2\x80\x8b@example.com"));
  EXPECT_FALSE(Jid::parse("juliet@example.com/\xe2\x80\x8b"));
}

TEST(JidParse, BidiRulesApply) {
  // RFC 3454 §6: a string with right-to-left characters must not contain
  // left-to-right ones.
  EXPECT_EQ(parts_of("\xd8\xa7@example.com"), (Parts{"\xd8\xa7", "example.com", ""}));
  EXPECT_FALSE(
      Jid::parse("\xd8\xa7"
                 "a@example.com"));
}

// --- resource -------------------------------------------------------------

TEST(JidParse, ResourceKeepsCaseAndSymbols) {
  EXPECT_EQ(parts_of("a@d/Fußball ♚ Σ"), (Parts{"a", "d", "Fußball ♚ Σ"}));
}

TEST(JidParse, ResourceForbidsControls) {
  EXPECT_FALSE(Jid::parse("a@d/x\x01"));
  EXPECT_FALSE(Jid::parse("a@d/x\x7f"));
  EXPECT_FALSE(Jid::parse(std::string_view("a@d/x\0y", 7)));
  // U+0080 (C1 control) is prohibited too (RFC 3454 C.2.2).
  EXPECT_FALSE(Jid::parse("a@d/x\xc2\x80"));
}

// --- domain ---------------------------------------------------------------

TEST(JidParse, DomainIsNameprepped) {
  EXPECT_EQ(parts_of("MÜNCHEN.de"), (Parts{"", "münchen.de", ""}));
  EXPECT_EQ(parts_of("user@Bücher.example"), (Parts{"user", "bücher.example", ""}));
}

TEST(JidParse, DomainStripsOneTrailingDot) {
  EXPECT_EQ(parts_of("juliet@example.com./r"), (Parts{"juliet", "example.com", "r"}));
  EXPECT_EQ(parts_of("example.com."), (Parts{"", "example.com", ""}));
  EXPECT_FALSE(Jid::parse("example.com.."));
}

TEST(JidParse, DomainIdeographicFullStopsAreLabelSeparators) {
  EXPECT_EQ(parts_of("juliet@example\xe3\x80\x82"
                     "com"),
            (Parts{"juliet", "example.com", ""}));
  EXPECT_EQ(parts_of("juliet@example\xef\xbc\x8e"
                     "com"),
            (Parts{"juliet", "example.com", ""}));
}

TEST(JidParse, DomainMustLookLikeAHostName) {
  for (const char* text : {"a..b", ".a", "exa mple.com", "a@b c", "a!b", "a,b", "a\\b", "a*b",
                           "a\x01"
                           "b",
                           "[", "]", "a[b]",
                           // NFKC turns U+FF0F into '/': refused, or the
                           // prepared JID would re-parse differently.
                           "a\xef\xbc\x8f"
                           "b.example",
                           // U+2024 ONE DOT LEADER becomes '.', leaving an empty label.
                           "example.com\xe2\x80\xa4"}) {
    EXPECT_FALSE(Jid::parse(text)) << text;
  }
  EXPECT_EQ(parts_of("muc_room-1.example"), (Parts{"", "muc_room-1.example", ""}));
}

TEST(JidParse, DomainLabelsAreAtMost63Octets) {
  const std::string l63(63, 'a');
  EXPECT_EQ(parts_of(l63 + ".example").domain, l63 + ".example");
  EXPECT_FALSE(Jid::parse(l63 + "a.example"));
  // For a non-ASCII label the limit applies to its ACE form: 55 ASCII
  // letters and one ü encode as "xn--" + 55 + "-" + "t2f" = 63 octets.
  const std::string idn_ok = std::string(55, 'a') + "ü";
  EXPECT_EQ(parts_of(idn_ok + ".example").domain, idn_ok + ".example");
  EXPECT_FALSE(Jid::parse("a" + idn_ok + ".example"));
}

TEST(JidParse, DomainIpLiterals) {
  EXPECT_EQ(parts_of("juliet@127.0.0.1/r"), (Parts{"juliet", "127.0.0.1", "r"}));
  EXPECT_EQ(parts_of("juliet@[::1]/r"), (Parts{"juliet", "[::1]", "r"}));
  // Written in canonical form, so equal addresses are equal JIDs.
  EXPECT_EQ(parts_of("[0:0:0::1]").domain, "[::1]");
  EXPECT_EQ(parts_of("[2001:DB8::A]").domain, "[2001:db8::a]");
  EXPECT_EQ(parts_of("[::1].").domain, "[::1]");
  for (const char* text : {"[::1", "::1", "[::1]x", "[]", "[::g]", "[127.0.0.1]", "[::1%eth0]",
                           "256.0.0.1", "1.2.3", "1.2.3.4.5", "01.2.3.4"}) {
    EXPECT_FALSE(Jid::parse(text)) << text;
  }
}

// --- lengths ------------------------------------------------------------

// A host name of exactly `n` octets made of 50-octet labels (n % 51 != 0,
// or it would end in a dot).
std::string domain_of_length(std::size_t n) {
  std::string d(n, 'd');
  for (std::size_t i = 50; i < n; i += 51) d[i] = '.';
  return d;
}

TEST(JidParse, PartsAreAtMost1023Octets) {
  const std::string n1023(1023, 'n'), r1023(1023, 'r');
  const std::string d1023 = domain_of_length(1023);
  ASSERT_EQ(d1023.size(), 1023u);
  EXPECT_EQ(parts_of(n1023 + "@" + d1023 + "/" + r1023), (Parts{n1023, d1023, r1023}));
  EXPECT_FALSE(Jid::parse(n1023 + "n@d"));
  EXPECT_FALSE(Jid::parse("n@d/" + r1023 + "r"));
  EXPECT_FALSE(Jid::parse(domain_of_length(1024)));
  // Non-ASCII: π is two octets.
  std::string pis;
  for (int i = 0; i < 511; ++i) pis += "π";
  EXPECT_EQ(parts_of(pis + "n@d").node, pis + "n");
  EXPECT_FALSE(Jid::parse(pis + "π@d"));
  EXPECT_FALSE(Jid::parse("n@d/" + pis + "π"));
}

TEST(JidParse, LengthLimitAppliesAfterPreparation) {
  // 600 soft hyphens (1200 octets) are mapped to nothing: the node is "a".
  std::string shy;
  for (int i = 0; i < 600; ++i) shy += "\xc2\xad";
  EXPECT_EQ(parts_of("a" + shy + "@d").node, "a");
  // "ŉ" (U+0149, 2 octets) becomes "ʼn" (3 octets) under NFKC: 400 of them
  // (800 octets) prepare to 1200 octets, over the limit.
  std::string napos;
  for (int i = 0; i < 400; ++i) napos += "\xc5\x89";
  EXPECT_FALSE(Jid::parse(napos + "@d"));
  EXPECT_EQ(nodeprep("\xc5\x89"), "\xca\xbcn");
  // U+FDFA (3 octets) becomes 18 characters (33 octets); 31 of them (93
  // octets) prepare to 1023, 32 are too many.
  std::string salla;
  for (int i = 0; i < 31; ++i) salla += "\xef\xb7\xba";
  EXPECT_EQ(parts_of("n@d/" + salla).resource.size(), 1023u);
  EXPECT_FALSE(Jid::parse("n@d/" + salla + "\xef\xb7\xba"));
}

TEST(JidParse, RawPartsOverFourTimesTheLimitAreRefused) {
  // Bounds the work per address: even text that would prepare to something
  // short is refused beyond 4092 raw octets.
  std::string shy;
  for (int i = 0; i < 2047; ++i) shy += "\xc2\xad";  // 4094 octets
  EXPECT_FALSE(Jid::parse("a" + shy + "@d"));
}

// --- UTF-8 ----------------------------------------------------------------

TEST(JidParse, InvalidUtf8IsRefused) {
  for (const char* text : {"\xff@example.com",
                           "a@example.com/\xc0\xaf",          // overlong '/'
                           "a@example.com/\xe0\x80\xaf",      // overlong '/'
                           "a@example.com/\xed\xa0\x80",      // surrogate
                           "a@example.com/\xf4\x90\x80\x80",  // above U+10FFFF
                           "a@example.com/\xe2\x99",          // truncated
                           "a@ex\x80"
                           "ample.com",
                           "\xce@example.com"}) {
    EXPECT_FALSE(Jid::parse(text)) << text;
  }
}

// --- the ASCII fast path agrees with libidn ---------------------------------

std::optional<std::string> libidn_prep(std::string s, const Stringprep_profile* profile) {
  std::string buf = s;
  buf.resize(1024);
  if (stringprep(buf.data(), buf.size(), Stringprep_profile_flags(0), profile) != STRINGPREP_OK) {
    return std::nullopt;
  }
  return std::string(buf.c_str());
}

TEST(JidFastPath, AgreesWithLibidnForEveryAsciiCharacter) {
  for (int c = 1; c < 0x80; ++c) {
    const std::string s = std::string("aB") + static_cast<char>(c) + "z";
    EXPECT_EQ(nodeprep(s), libidn_prep(s, stringprep_xmpp_nodeprep)) << "char " << c;
    EXPECT_EQ(resourceprep(s), libidn_prep(s, stringprep_xmpp_resourceprep)) << "char " << c;
    // The domain check is stricter than nameprep (host-name shape), but
    // whatever it accepts must be what nameprep produces.
    if (auto d = nameprep(s)) {
      EXPECT_EQ(d, libidn_prep(s, stringprep_nameprep)) << "char " << c;
    }
  }
}

// --- part helpers ---------------------------------------------------------

TEST(JidPrep, PublicPartFunctions) {
  EXPECT_EQ(nodeprep("JULIET"), "juliet");
  EXPECT_EQ(nodeprep(""), std::nullopt);
  EXPECT_EQ(nodeprep("a@b"), std::nullopt);
  EXPECT_EQ(nameprep("Example.COM."), "example.com");
  EXPECT_EQ(nameprep(""), std::nullopt);
  EXPECT_EQ(resourceprep("Foo Bar"), "Foo Bar");
  EXPECT_EQ(resourceprep(""), std::nullopt);
}

// --- accessors, formatting, equality, hashing -----------------------------

TEST(Jid, ToStringAndBareString) {
  auto full = Jid::parse("Juliet@Example.com/Balcony");
  ASSERT_TRUE(full);
  EXPECT_EQ(full->to_string(), "juliet@example.com/Balcony");
  EXPECT_EQ(full->bare_string(), "juliet@example.com");
  EXPECT_TRUE(full->is_full());
  EXPECT_FALSE(full->is_bare());
  EXPECT_TRUE(full->has_node());

  EXPECT_EQ(full->bare().to_string(), "juliet@example.com");
  EXPECT_TRUE(full->bare().is_bare());
  EXPECT_EQ(full->bare().with_resource("x").to_string(), "juliet@example.com/x");

  auto host = Jid::parse("example.com/r");
  ASSERT_TRUE(host);
  EXPECT_EQ(host->to_string(), "example.com/r");
  EXPECT_EQ(host->bare_string(), "example.com");
  EXPECT_FALSE(host->has_node());

  EXPECT_TRUE(Jid().empty());
  EXPECT_EQ(Jid().to_string(), "");
  EXPECT_EQ(Jid::from_parts("n", "d", "r").to_string(), "n@d/r");
}

TEST(Jid, EqualityIsOnNormalisedForm) {
  EXPECT_EQ(Jid::parse("JULIET@EXAMPLE.COM/r"), Jid::parse("juliet@example.com./r"));
  EXPECT_NE(Jid::parse("juliet@example.com/R"), Jid::parse("juliet@example.com/r"));
  EXPECT_NE(Jid::parse("juliet@example.com"), Jid::parse("juliet@example.com/r"));
}

TEST(Jid, HashFollowsEqualityAndSeparatesParts) {
  const std::hash<Jid> h;
  EXPECT_EQ(h(*Jid::parse("A@B/c")), h(*Jid::parse("a@b/c")));
  EXPECT_NE(h(Jid::from_parts("a", "bc")), h(Jid::from_parts("ab", "c")));
  EXPECT_NE(h(Jid::from_parts("", "a", "b")), h(Jid::from_parts("a", "b", "")));
  std::unordered_set<Jid> set{*Jid::parse("a@b/c"), *Jid::parse("A@B/c"), *Jid::parse("a@b")};
  EXPECT_EQ(set.size(), 2u);
}

TEST(Jid, PreparedFormReparsesToItself) {
  for (const char* text : {"juliet@example.com/foo", "fußball@example.com", "henryⅣ@example.com",
                           "Σ@MÜNCHEN.de/Σ", "[0::1]/r",
                           "ＪＵＬＩＥＴ@example\xe3\x80\x82"
                           "com/ x",
                           "a/b@c/d",
                           "ju\xc2\xad"
                           "liet@example.com."}) {
    auto jid = Jid::parse(text);
    ASSERT_TRUE(jid) << text;
    EXPECT_EQ(Jid::parse(jid->to_string()), jid) << text;
  }
}

// Not a correctness test: run with --gtest_also_run_disabled_tests to see
// what one parse costs. Thread CPU time, not wall time, so that a busy
// machine inflates the figure less.
double cpu_ns_per_parse(std::string_view text, int iterations) {
  const auto cpu_now = [] {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
  };
  std::size_t sink = 0;
  const double start = cpu_now();
  for (int i = 0; i < iterations; ++i) sink += Jid::parse(text)->domain().size();
  const double elapsed = cpu_now() - start;
  EXPECT_GT(sink, 0u);
  return elapsed / iterations;
}

TEST(JidSpeed, DISABLED_ParseCommonCase) {
  std::printf("Jid::parse(\"user@example.com/res\"): %.1f ns/parse\n",
              cpu_ns_per_parse("user@example.com/res", 5'000'000));
  std::printf("Jid::parse(\"jüliet@münchen.example/Balkon\"): %.1f ns/parse\n",
              cpu_ns_per_parse("jüliet@münchen.example/Balkon", 100'000));
}

}  // namespace
}  // namespace tern::xmpp
