#include "xml/stream_parser.h"

#include <gtest/gtest.h>
#include <malloc.h>

#include <memory>
#include <string>
#include <vector>

#include "xmpp/namespaces.h"
#include "xml/serializer.h"

namespace tern::xml {
namespace {

constexpr std::string_view kHeader =
    "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
    "xmlns:stream='http://etherx.jabber.org/streams' to='example.com' version='1.0' "
    "xml:lang='en'>";

// One line per event, so a test states the whole expected sequence.
std::string describe(const StreamEvent& ev) {
  if (auto* open = std::get_if<StreamOpen>(&ev)) {
    return "open [" + open->content_ns + "] " + to_string(open->header, open->content_ns);
  }
  if (auto* st = std::get_if<StreamStanza>(&ev)) return "stanza " + to_string(st->element, ns::kClient);
  if (std::holds_alternative<StreamClose>(ev)) return "close";
  return std::string("fail ") + condition_name(std::get<StreamFailure>(ev).error);
}

std::vector<std::string> drain(StreamParser& p) {
  std::vector<std::string> out;
  while (auto ev = p.next()) out.push_back(describe(*ev));
  return out;
}

std::vector<std::string> parse_all(std::string_view bytes, ParserLimits limits = {}) {
  StreamParser p(limits);
  p.feed(bytes);
  return drain(p);
}

std::vector<std::string> parse_in_pieces(std::string_view bytes, std::size_t piece,
                                         ParserLimits limits = {}) {
  StreamParser p(limits);
  std::vector<std::string> out;
  for (std::size_t i = 0; i < bytes.size(); i += piece) {
    p.feed(bytes.substr(i, piece));
    for (auto& e : drain(p)) out.push_back(std::move(e));
  }
  return out;
}

std::string stream(std::string_view body) { return std::string(kHeader) + std::string(body); }

const std::string kOpen =
    "open [jabber:client] <stream:stream to='example.com' version='1.0' xml:lang='en'/>";

std::string fail(ParseError e) { return std::string("fail ") + condition_name(e); }

TEST(StreamParserTest, HeaderStanzasAndClose) {
  std::string in = stream(
      "<message to='juliet@example.com' type='chat' xml:lang='fr'><body>salut</body>"
      "<active xmlns='http://jabber.org/protocol/chatstates'/></message>"
      "<iq type='get' id='1'><ping xmlns='urn:xmpp:ping'/></iq></stream:stream>");
  EXPECT_EQ(parse_all(in),
            (std::vector<std::string>{
                kOpen,
                "stanza <message to='juliet@example.com' type='chat' "
                "xml:lang='fr'><body>salut</body><active "
                "xmlns='http://jabber.org/protocol/chatstates'/></message>",
                "stanza <iq type='get' id='1'><ping xmlns='urn:xmpp:ping'/></iq>", "close"}));
}

TEST(StreamParserTest, OpenEventCarriesHeader) {
  StreamParser p;
  p.feed(kHeader);
  auto ev = p.next();
  ASSERT_TRUE(ev.has_value());
  auto& open = std::get<StreamOpen>(*ev);
  EXPECT_EQ(open.content_ns, "jabber:client");
  EXPECT_EQ(open.header.name(), "stream");
  EXPECT_EQ(open.header.ns(), ns::kStreams);
  ASSERT_EQ(open.header.attributes().size(), 3u);
  EXPECT_EQ(open.header.attr_or("to"), "example.com");
  EXPECT_EQ(open.header.attr_or("version"), "1.0");
  EXPECT_EQ(open.header.attr_or("xml:lang"), "en");
  EXPECT_EQ(p.next(), std::nullopt);
}

TEST(StreamParserTest, HeaderWithoutXmlDeclarationOrDefaultNamespace) {
  EXPECT_EQ(parse_all("<s:stream xmlns:s='http://etherx.jabber.org/streams' to='x'>"),
            std::vector<std::string>{"open [] <stream:stream to='x'/>"});
}

TEST(StreamParserTest, ByteByByteGivesTheSameEvents) {
  std::string in = stream(
      "<message to='a@b'><body>one &amp; two &lt;3 &#x263A;</body></message>\n"
      "<presence/> <iq type='set' id='x'><query xmlns='jabber:iq:roster'><item jid='c@d' "
      "name='&apos;q&quot;'/></query></iq></stream:stream>");
  std::vector<std::string> whole = parse_all(in);
  ASSERT_EQ(whole.size(), 5u);
  EXPECT_EQ(whole[1],
            "stanza <message to='a@b'><body>one &amp; two &lt;3 \xe2\x98\xba</body></message>");
  EXPECT_EQ(parse_in_pieces(in, 1), whole);
  EXPECT_EQ(parse_in_pieces(in, 7), whole);
  EXPECT_EQ(parse_in_pieces(in, 64), whole);
}

TEST(StreamParserTest, PausesAfterEachTopLevelEvent) {
  // <proceed/> must reach the stream layer before the bytes after it (the TLS
  // handshake, here junk) are read as XML; reset() then drops them.
  StreamParser p;
  p.feed(stream("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>\x16\x03\x01 not xml <<<"));
  EXPECT_EQ(describe(*p.next()), kOpen);
  EXPECT_EQ(describe(*p.next()), "stanza <starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
  p.reset();
  EXPECT_EQ(p.next(), std::nullopt);
  p.feed(kHeader);
  EXPECT_EQ(drain(p), std::vector<std::string>{kOpen});
}

TEST(StreamParserTest, SeveralStanzasInOneFeedComeOutOneByOne) {
  StreamParser p;
  p.feed(stream("<a/><b/><c/>"));
  EXPECT_EQ(describe(*p.next()), kOpen);
  EXPECT_EQ(describe(*p.next()), "stanza <a/>");
  EXPECT_EQ(describe(*p.next()), "stanza <b/>");
  // Feeding more while events remain is allowed; order is kept.
  p.feed("<d/>");
  EXPECT_EQ(describe(*p.next()), "stanza <c/>");
  EXPECT_EQ(describe(*p.next()), "stanza <d/>");
  EXPECT_EQ(p.next(), std::nullopt);
}

TEST(StreamParserTest, WhitespaceKeepaliveIsActivityNotAnEvent) {
  StreamParser p;
  p.feed(kHeader);
  EXPECT_EQ(drain(p).size(), 1u);
  EXPECT_TRUE(p.saw_activity());
  EXPECT_FALSE(p.saw_activity());
  p.feed(" ");
  p.feed("\r\n\t");
  EXPECT_EQ(p.next(), std::nullopt);
  EXPECT_TRUE(p.saw_activity());
  EXPECT_FALSE(p.saw_activity());
  p.feed("<presence/>");
  EXPECT_EQ(drain(p), std::vector<std::string>{"stanza <presence/>"});
}

TEST(StreamParserTest, TextAtStreamLevelIsBadFormat) {
  EXPECT_EQ(parse_all(stream("<a/> hello")),
            (std::vector<std::string>{kOpen, "stanza <a/>", fail(ParseError::kBadFormat)}));
}

TEST(StreamParserTest, XmlLangAndNamespacedAttributesPreserved) {
  StreamParser p;
  p.feed(
      stream("<message xml:lang='de' xmlns:e='urn:ext' e:flag='1'><body xml:lang='en'>x"
             "</body></message>"));
  p.next();
  auto ev = p.next();
  auto& msg = std::get<StreamStanza>(*ev).element;
  EXPECT_EQ(msg.attr_or("xml:lang"), "de");
  EXPECT_EQ(msg.attr_or("{urn:ext}flag"), "1");
  EXPECT_EQ(msg.child("body")->attr_or("xml:lang"), "en");
  EXPECT_EQ(msg.ns(), ns::kClient);
  EXPECT_EQ(msg.child("body")->ns(), ns::kClient);
}

TEST(StreamParserTest, PrefixesResolveToNamespaces) {
  // Dialback declares its prefix on the stream header; stanzas use it.
  std::string header =
      "<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' "
      "xmlns:db='jabber:server:dialback' version='1.0'>";
  StreamParser p;
  p.feed(header);
  EXPECT_EQ(drain(p).size(), 1u);
  // The expat parser is released between reads; the prefix must survive.
  p.feed("<db:result from='a.example' to='b.example'>key</db:result>");
  auto ev = p.next();
  ASSERT_TRUE(ev.has_value());
  auto& result = std::get<StreamStanza>(*ev).element;
  EXPECT_EQ(result.name(), "result");
  EXPECT_EQ(result.ns(), "jabber:server:dialback");
  EXPECT_EQ(to_string(result, ns::kServer),
            "<result xmlns='jabber:server:dialback' from='a.example' to='b.example'>key</result>");
  p.feed("<p:x xmlns:p='urn:p'><p:y/><z/></p:x></stream:stream>");
  EXPECT_EQ(drain(p), (std::vector<std::string>{
                          "stanza <x xmlns='urn:p'><y/><z xmlns='jabber:server'/></x>", "close"}));
}

TEST(StreamParserTest, RootWrittenAnyWayClosesAfterRelease) {
  // The parser rebuilds expat from the header between reads: whatever the
  // root's prefix, the peer's end tag must still match.
  for (std::string root : {"stream:stream", "s:stream", "stream"}) {
    std::size_t colon = root.find(':');
    std::string decl = colon == std::string::npos ? "xmlns" : "xmlns:" + root.substr(0, colon);
    StreamParser p;
    p.feed("<" + root + " " + decl + "='http://etherx.jabber.org/streams'>");
    EXPECT_EQ(drain(p).size(), 1u) << root;
    EXPECT_LT(p.memory_usage(), 1024u) << root;
    p.feed("<a/>");
    EXPECT_EQ(drain(p).size(), 1u) << root;
    p.feed("</" + root + ">");
    EXPECT_EQ(drain(p), std::vector<std::string>{"close"}) << root;
  }
}

TEST(StreamParserTest, KeepaliveOnAQuietStreamKeepsItQuiet) {
  StreamParser p;
  p.feed(kHeader);
  drain(p);
  std::size_t quiet = p.memory_usage();
  p.feed("\n \t ");
  EXPECT_EQ(p.next(), std::nullopt);
  EXPECT_EQ(p.memory_usage(), quiet);
  p.feed(" <presence/>");
  EXPECT_EQ(drain(p), std::vector<std::string>{"stanza <presence/>"});
  p.feed(" x");
  EXPECT_EQ(drain(p), std::vector<std::string>{fail(ParseError::kBadFormat)});
}

TEST(StreamParserTest, UndeclaredPrefixIsBadNamespacePrefix) {
  EXPECT_EQ(parse_all(stream("<foo:bar/>")),
            (std::vector<std::string>{kOpen, fail(ParseError::kBadNamespacePrefix)}));
  EXPECT_EQ(parse_all("<stream:stream to='x'>"),
            std::vector<std::string>{fail(ParseError::kBadNamespacePrefix)});
}

TEST(StreamParserTest, WrongRoot) {
  EXPECT_EQ(parse_all("<stream:stream xmlns:stream='urn:wrong'>"),
            std::vector<std::string>{fail(ParseError::kInvalidNamespace)});
  EXPECT_EQ(parse_all("<stream xmlns='jabber:client'>"),
            std::vector<std::string>{fail(ParseError::kInvalidNamespace)});
  EXPECT_EQ(parse_all("<message xmlns='http://etherx.jabber.org/streams'/>"),
            std::vector<std::string>{fail(ParseError::kBadFormat)});
  EXPECT_EQ(parse_all("GET / HTTP/1.1\r\n"),
            std::vector<std::string>{fail(ParseError::kNotWellFormed)});
}

TEST(StreamParserTest, StreamCloseAndEmptyRoot) {
  EXPECT_EQ(parse_all(stream("</stream:stream>")), (std::vector<std::string>{kOpen, "close"}));
  EXPECT_EQ(parse_all("<stream:stream xmlns:stream='http://etherx.jabber.org/streams'/>"),
            (std::vector<std::string>{"open [] <stream:stream/>", "close"}));
}

TEST(StreamParserTest, FailureDetailGivesTheStreamOffset) {
  ParserPool pool(1);  // p will read with the parser `other` parked
  StreamParser other({}, &pool);
  other.feed(stream("<presence/>\n\n\n"));
  drain(other);
  ASSERT_EQ(pool.idle_count(), 1u);
  StreamParser p({}, &pool);
  p.feed(kHeader);
  drain(p);
  p.feed("<a></b>");
  auto ev = p.next();
  ASSERT_TRUE(ev.has_value());
  EXPECT_EQ(std::get<StreamFailure>(*ev).detail,
            "expat: mismatched tag at byte " + std::to_string(kHeader.size() + 5));
}

TEST(StreamParserTest, NothingAfterCloseOrFailure) {
  StreamParser p;
  p.feed(stream("</stream:stream><a/>"));
  EXPECT_EQ(drain(p), (std::vector<std::string>{kOpen, "close"}));
  p.feed("<b/>");
  EXPECT_EQ(p.next(), std::nullopt);

  StreamParser q;
  q.feed(stream("<a></b>"));
  EXPECT_EQ(drain(q), (std::vector<std::string>{kOpen, fail(ParseError::kNotWellFormed)}));
  q.feed("<c/>");
  EXPECT_EQ(q.next(), std::nullopt);
  EXPECT_LT(q.memory_usage(), 1024u);  // a dead parser holds no expat
}

TEST(StreamParserTest, ResetAndReparse) {
  StreamParser p;
  p.feed(
      stream("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGEAYg==</auth>"));
  EXPECT_EQ(drain(p).size(), 2u);
  p.reset();
  p.feed(stream("<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>"));
  EXPECT_EQ(drain(p),
            (std::vector<std::string>{kOpen,
                                      "stanza <iq type='set' id='b'><bind "
                                      "xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>"}));
  // A reset also revives a parser that failed.
  p.feed("<junk");
  p.feed("&&&>");
  EXPECT_EQ(drain(p), std::vector<std::string>{fail(ParseError::kNotWellFormed)});
  p.reset();
  p.feed(kHeader);
  EXPECT_EQ(drain(p), std::vector<std::string>{kOpen});
}

TEST(StreamParserTest, MultiByteUtf8SplitAcrossFeeds) {
  std::string text = "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";  // é € 😀
  std::string in = stream("<message><body>" + text + "</body></message>");
  std::vector<std::string> expected = {kOpen,
                                       "stanza <message><body>" + text + "</body></message>"};
  EXPECT_EQ(parse_in_pieces(in, 1), expected);
  EXPECT_EQ(parse_in_pieces(in, 2), expected);
  EXPECT_EQ(parse_in_pieces(in, 3), expected);
}

TEST(StreamParserTest, InvalidUtf8Refused) {
  for (std::string bad :
       {"\xc3\x28", "\xc0\xaf", "\xed\xa0\x80", "\xff", "\xf4\x90\x80\x80", "\xe2\x82"}) {
    EXPECT_EQ(parse_all(stream("<message><body>" + bad + "</body></message>")),
              (std::vector<std::string>{kOpen, fail(ParseError::kNotWellFormed)}))
        << "bytes: " << bad;
  }
  EXPECT_EQ(parse_all(stream("<message><body>&#0;</body></message>")),
            (std::vector<std::string>{kOpen, fail(ParseError::kNotWellFormed)}));
  EXPECT_EQ(parse_all(stream("<message><body>\x01</body></message>")),
            (std::vector<std::string>{kOpen, fail(ParseError::kNotWellFormed)}));
}

TEST(StreamParserTest, EncodingDeclaration) {
  EXPECT_EQ(parse_all("<?xml version='1.0' encoding='ISO-8859-1'?>"),
            std::vector<std::string>{fail(ParseError::kUnsupportedEncoding)});
  EXPECT_EQ(parse_all("<?xml version='1.0' encoding='UTF-16'?>"),
            std::vector<std::string>{fail(ParseError::kUnsupportedEncoding)});
  EXPECT_EQ(parse_all("<?xml version='1.0' encoding='utf-8'?>" + std::string(kHeader.substr(21))),
            std::vector<std::string>{kOpen});
  // A UTF-8 byte order mark is fine.
  EXPECT_EQ(parse_all("\xef\xbb\xbf" + std::string(kHeader)), std::vector<std::string>{kOpen});
}

TEST(StreamParserTest, DoctypeRefused) {
  EXPECT_EQ(
      parse_all("<?xml version='1.0'?><!DOCTYPE stream:stream>" + std::string(kHeader.substr(21))),
      std::vector<std::string>{fail(ParseError::kRestrictedXml)});
  EXPECT_EQ(parse_all("<!DOCTYPE x SYSTEM 'http://example.com/x.dtd'><x/>"),
            std::vector<std::string>{fail(ParseError::kRestrictedXml)});
  EXPECT_EQ(parse_all("<!DOCTYPE x [<!ENTITY e 'boom'>]><x>&e;</x>"),
            std::vector<std::string>{fail(ParseError::kRestrictedXml)});
}

TEST(StreamParserTest, BillionLaughsRefused) {
  std::string bomb = "<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol 'lol'>";
  for (int i = 1; i <= 9; ++i) {
    bomb += "<!ENTITY lol" + std::to_string(i) + " '";
    for (int j = 0; j < 10; ++j)
      bomb += "&lol" + (i == 1 ? std::string() : std::to_string(i - 1)) + ";";
    bomb += "'>";
  }
  bomb += "]><stream:stream xmlns:stream='http://etherx.jabber.org/streams'>&lol9;";
  EXPECT_EQ(parse_all(bomb), std::vector<std::string>{fail(ParseError::kRestrictedXml)});
  EXPECT_EQ(parse_in_pieces(bomb, 5), std::vector<std::string>{fail(ParseError::kRestrictedXml)});
}

TEST(StreamParserTest, EntityReferencesOtherThanPredefinedRefused) {
  EXPECT_EQ(parse_all(stream("<message><body>&nbsp;</body></message>")),
            (std::vector<std::string>{kOpen, fail(ParseError::kNotWellFormed)}));
}

TEST(StreamParserTest, ProcessingInstructionsRefused) {
  EXPECT_EQ(parse_all("<?xml-stylesheet href='x'?>" + std::string(kHeader.substr(21))),
            std::vector<std::string>{fail(ParseError::kRestrictedXml)});
  EXPECT_EQ(parse_all(stream("<message><?php echo 1; ?></message>")),
            (std::vector<std::string>{kOpen, fail(ParseError::kRestrictedXml)}));
  EXPECT_EQ(parse_all(stream("<?xml version='1.0'?>")),
            (std::vector<std::string>{kOpen, fail(ParseError::kRestrictedXml)}));
}

TEST(StreamParserTest, CommentsRefused) {
  EXPECT_EQ(parse_all("<!-- hi -->" + std::string(kHeader.substr(21))),
            std::vector<std::string>{fail(ParseError::kRestrictedXml)});
  EXPECT_EQ(parse_all(stream("<message><!-- x --></message>")),
            (std::vector<std::string>{kOpen, fail(ParseError::kRestrictedXml)}));
  EXPECT_EQ(parse_all(stream("<!-- between -->")),
            (std::vector<std::string>{kOpen, fail(ParseError::kRestrictedXml)}));
}

TEST(StreamParserTest, CdataAndLineEndsBecomeText) {
  EXPECT_EQ(parse_all(stream("<m><b><![CDATA[<x> & ]]>y\r\nz\rw</b></m>")),
            (std::vector<std::string>{kOpen, "stanza <m><b>&lt;x&gt; &amp; y\nz\nw</b></m>"}));
}

// --- Limits ---------------------------------------------------------------

ParserLimits small_limits() {
  ParserLimits l;
  l.max_stanza_bytes = 100;
  l.max_depth = 3;
  l.max_attributes = 5;  // the test header has 3 attributes and 2 declarations
  l.max_header_bytes = 200;
  return l;
}

TEST(StreamParserLimitsTest, StanzaSizeExactlyAtLimitPasses) {
  std::string body(100 - std::string("<m></m>").size(), 'x');
  std::string stanza = "<m>" + body + "</m>";
  ASSERT_EQ(stanza.size(), 100u);
  EXPECT_EQ(parse_all(stream(stanza), small_limits()),
            (std::vector<std::string>{kOpen, "stanza " + stanza}));
  EXPECT_EQ(parse_in_pieces(stream(stanza), 1, small_limits()),
            (std::vector<std::string>{kOpen, "stanza " + stanza}));
  EXPECT_EQ(parse_all(stream("<m>" + body + "x</m>"), small_limits()),
            (std::vector<std::string>{kOpen, fail(ParseError::kPolicyViolation)}));
  EXPECT_EQ(parse_in_pieces(stream("<m>" + body + "x</m>"), 1, small_limits()),
            (std::vector<std::string>{kOpen, fail(ParseError::kPolicyViolation)}));
}

TEST(StreamParserLimitsTest, StanzaSizeCountsFromStartTag) {
  // Whitespace before the stanza does not count; the start tag does.
  std::string stanza = "<m a='" + std::string(100 - 9, 'v') + "'/>";
  ASSERT_EQ(stanza.size(), 100u);
  EXPECT_EQ(parse_all(stream(std::string(300, ' ') + stanza), small_limits()),
            (std::vector<std::string>{kOpen, "stanza " + stanza}));
}

TEST(StreamParserLimitsTest, UnfinishedTextRunIsCaught) {
  StreamParser p(small_limits());
  p.feed(stream("<message><body>"));
  EXPECT_EQ(drain(p).size(), 1u);
  for (int i = 0; i < 8; ++i) {
    p.feed(std::string(10, 'a'));
    EXPECT_EQ(p.next(), std::nullopt);
  }
  p.feed(std::string(10, 'a'));  // 15 + 90 bytes > 100
  EXPECT_EQ(drain(p), std::vector<std::string>{fail(ParseError::kPolicyViolation)});
}

TEST(StreamParserLimitsTest, UnfinishedTagIsCaughtBeforeAnyHandler) {
  // An attribute value that never ends produces no callback at all; the
  // buffered bytes alone must trip the limit.
  ParserLimits l = small_limits();
  StreamParser p(l);
  p.feed(kHeader);
  EXPECT_EQ(drain(p).size(), 1u);
  p.feed("<message to='");
  for (int i = 0; i < 8; ++i) {
    p.feed(std::string(10, 'a'));
    EXPECT_EQ(p.next(), std::nullopt);
  }
  p.feed(std::string(10, 'a'));
  EXPECT_EQ(drain(p), std::vector<std::string>{fail(ParseError::kPolicyViolation)});
}

TEST(StreamParserLimitsTest, HugeUnfinishedTagInOneFeedIsCaught) {
  StreamParser p;  // default 256 KiB
  p.feed(kHeader);
  EXPECT_EQ(drain(p).size(), 1u);
  p.feed("<message to='" + std::string(1 << 20, 'a'));
  EXPECT_EQ(drain(p), std::vector<std::string>{fail(ParseError::kPolicyViolation)});
}

TEST(StreamParserLimitsTest, ManySmallStanzasInOneFeedAreFine) {
  std::string many;
  for (int i = 0; i < 50; ++i) many += "<a>" + std::string(50, 'x') + "</a>";
  auto events = parse_all(stream(many), small_limits());
  ASSERT_EQ(events.size(), 51u);
  EXPECT_EQ(events.back(), "stanza <a>" + std::string(50, 'x') + "</a>");
}

TEST(StreamParserLimitsTest, TagTrickledByteByByteIsCut) {
  // Expat re-reads an unfinished tag on every feed: one byte per feed would
  // cost time quadratic in the tag's size.
  StreamParser p;
  p.feed(kHeader);
  drain(p);
  p.feed("<message to='");
  std::size_t sent = 0;
  std::vector<std::string> events;
  while (events.empty() && sent < 100000) {
    p.feed("a");
    ++sent;
    events = drain(p);
  }
  EXPECT_EQ(events, std::vector<std::string>{fail(ParseError::kPolicyViolation)});
  EXPECT_LT(sent, 2000u);
}

TEST(StreamParserLimitsTest, BigTagInSegmentsIsFine) {
  std::string value(64 * 1024, 'v');
  std::string in = stream("<message id='" + value + "'/>");
  EXPECT_EQ(parse_in_pieces(in, 1400),
            (std::vector<std::string>{kOpen, "stanza <message id='" + value + "'/>"}));
  // A person typing into telnet: short tags, one byte at a time.
  EXPECT_EQ(
      parse_in_pieces(stream("<presence type='unavailable' id='a1b2c3d4e5f6'/>"), 1),
      (std::vector<std::string>{kOpen, "stanza <presence type='unavailable' id='a1b2c3d4e5f6'/>"}));
}

TEST(StreamParserLimitsTest, Depth) {
  EXPECT_EQ(parse_all(stream("<a><b><c/></b></a>"), small_limits()),
            (std::vector<std::string>{kOpen, "stanza <a><b><c/></b></a>"}));
  EXPECT_EQ(parse_all(stream("<a><b><c><d/></c></b></a>"), small_limits()),
            (std::vector<std::string>{kOpen, fail(ParseError::kPolicyViolation)}));
}

TEST(StreamParserLimitsTest, DeepNestingWithDefaults) {
  std::string deep;
  for (int i = 0; i < 64; ++i) deep += "<a>";
  for (int i = 0; i < 64; ++i) deep += "</a>";
  EXPECT_EQ(parse_all(stream(deep)).size(), 2u);
  EXPECT_EQ(parse_all(stream("<a>" + deep + "</a>")),
            (std::vector<std::string>{kOpen, fail(ParseError::kPolicyViolation)}));
}

TEST(StreamParserLimitsTest, Attributes) {
  EXPECT_EQ(parse_all(stream("<a b='1' c='2' d='3' e='4' f='5'/>"), small_limits()),
            (std::vector<std::string>{kOpen, "stanza <a b='1' c='2' d='3' e='4' f='5'/>"}));
  EXPECT_EQ(parse_all(stream("<a b='1' c='2' d='3' e='4' f='5' g='6'/>"), small_limits()),
            (std::vector<std::string>{kOpen, fail(ParseError::kPolicyViolation)}));
  // Namespace declarations count too: each one costs expat memory.
  EXPECT_EQ(parse_all(stream("<a b='1' c='2' d='3' e='4' xmlns:p='urn:p' xmlns:q='urn:q'/>"),
                      small_limits()),
            (std::vector<std::string>{kOpen, fail(ParseError::kPolicyViolation)}));
  EXPECT_EQ(parse_all(stream("<a><b b='1' c='2' d='3' e='4' f='5' g='6'/></a>"), small_limits()),
            (std::vector<std::string>{kOpen, fail(ParseError::kPolicyViolation)}));
  // The header is an element like any other.
  ParserLimits one;
  one.max_attributes = 1;
  EXPECT_EQ(parse_all(kHeader, one), std::vector<std::string>{fail(ParseError::kPolicyViolation)});
}

TEST(StreamParserLimitsTest, HeaderSize) {
  ParserLimits l = small_limits();
  std::string header = "<stream:stream xmlns:stream='http://etherx.jabber.org/streams' id='";
  std::string fits = header + std::string(200 - header.size() - 2, 'i') + "'>";
  ASSERT_EQ(fits.size(), 200u);
  EXPECT_EQ(parse_all(fits, l).size(), 1u);
  std::string too_big = header + std::string(200 - header.size() - 1, 'i') + "'>";
  EXPECT_EQ(parse_all(too_big, l), std::vector<std::string>{fail(ParseError::kPolicyViolation)});
  // An open tag that never ends is caught without waiting for it.
  StreamParser p(l);
  p.feed(header);
  EXPECT_EQ(p.next(), std::nullopt);
  p.feed(std::string(2000, 'i'));
  EXPECT_EQ(drain(p), std::vector<std::string>{fail(ParseError::kPolicyViolation)});
}

TEST(StreamParserLimitsTest, ManyDistinctNamesHitTheMemoryCap) {
  // Expat keeps every element name it has seen; a peer that never lets the
  // parser go quiet must not grow it without bound.
  ParserLimits l;
  l.max_stanza_bytes = 4096;  // cap: 4 * 4096 + 64 KiB
  StreamParser p(l);
  p.feed(kHeader);
  drain(p);
  p.feed("<x");
  int stanzas = 0;
  bool failed = false;
  for (int i = 0; i < 20000 && !failed; ++i) {
    // Each feed ends inside the next stanza, so the parser is never quiet.
    p.feed("/><n" + std::to_string(i) + "/><x");
    for (auto& e : drain(p)) {
      failed |= e == fail(ParseError::kPolicyViolation);
      stanzas += e.starts_with("stanza");
    }
  }
  EXPECT_TRUE(failed);
  EXPECT_GT(stanzas, 1000);  // well-behaved traffic is far from the cap
}

// --- Pool -------------------------------------------------------------------

TEST(ParserPoolTest, QuietParsersSharePrimedExpats) {
  ParserPool pool;
  StreamParser a({}, &pool);
  StreamParser b({}, &pool);
  a.feed(kHeader);
  EXPECT_EQ(drain(a), std::vector<std::string>{kOpen});
  EXPECT_EQ(pool.idle_count(), 1u);  // a parked its parser
  b.feed(kHeader);
  EXPECT_EQ(drain(b), std::vector<std::string>{kOpen});
  EXPECT_EQ(pool.idle_count(), 2u);
  EXPECT_GT(pool.memory_usage(), 8000u);
  EXPECT_LT(a.memory_usage(), 1024u);

  // Each borrows whichever parser is on top and hands it back when done.
  for (int i = 0; i < 3; ++i) {
    a.feed("<message id='a" + std::to_string(i) + "'><body>x</body></message>");
    EXPECT_EQ(pool.idle_count(), 2u);
    EXPECT_EQ(describe(*a.next()),
              "stanza <message id='a" + std::to_string(i) + "'><body>x</body></message>");
    EXPECT_EQ(a.next(), std::nullopt);
    b.feed("<presence/><iq type='get' id='b'><ping xmlns='urn:xmpp:ping'/>");
    EXPECT_EQ(drain(b), std::vector<std::string>{"stanza <presence/>"});
    EXPECT_EQ(pool.idle_count(), 1u);  // b is inside a stanza: keeps its parser
    b.feed("</iq>");
    EXPECT_EQ(drain(b), std::vector<std::string>{
                            "stanza <iq type='get' id='b'><ping xmlns='urn:xmpp:ping'/></iq>"});
    EXPECT_EQ(pool.idle_count(), 2u);
  }
  a.feed("</stream:stream>");
  EXPECT_EQ(drain(a), std::vector<std::string>{"close"});
  EXPECT_EQ(pool.idle_count(), 1u);  // a closed stream keeps nothing
}

TEST(ParserPoolTest, LimitsCountFromTheBorrowersOwnBytes) {
  ParserPool pool;
  ParserLimits l = small_limits();
  StreamParser other({}, &pool);
  other.feed(std::string(kHeader) + std::string(5000, ' ') + "<presence/>");
  drain(other);
  ASSERT_EQ(pool.idle_count(), 1u);
  StreamParser p(l, &pool);
  p.feed(kHeader);
  drain(p);
  p.feed(" ");
  std::string stanza = "<m>" + std::string(100 - 7, 'x') + "</m>";
  p.feed(stanza);
  EXPECT_EQ(drain(p), std::vector<std::string>{"stanza " + stanza});
  p.feed("<m>" + std::string(100 - 6, 'x') + "</m>");
  EXPECT_EQ(drain(p), std::vector<std::string>{fail(ParseError::kPolicyViolation)});
}

TEST(ParserPoolTest, OnlyIdenticalHeadersShare) {
  ParserPool pool;
  StreamParser c2s({}, &pool);
  c2s.feed(kHeader);
  drain(c2s);
  ASSERT_EQ(pool.idle_count(), 1u);
  StreamParser s2s({}, &pool);
  s2s.feed(
      "<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' "
      "xmlns:db='jabber:server:dialback'>");
  drain(s2s);
  ASSERT_EQ(pool.idle_count(), 2u);
  s2s.feed("<db:verify id='1'/>");
  EXPECT_EQ(drain(s2s),
            std::vector<std::string>{"stanza <verify xmlns='jabber:server:dialback' id='1'/>"});
  c2s.feed("<message/>");
  EXPECT_EQ(drain(c2s), std::vector<std::string>{"stanza <message/>"});
  EXPECT_EQ(pool.idle_count(), 2u);
}

TEST(ParserPoolTest, HoldsAtMostMaxIdle) {
  ParserPool pool(2);
  std::vector<std::unique_ptr<StreamParser>> parsers;
  for (int i = 0; i < 4; ++i) {
    parsers.push_back(std::make_unique<StreamParser>(ParserLimits{}, &pool));
    parsers.back()->feed(kHeader);
    drain(*parsers.back());
  }
  EXPECT_EQ(pool.idle_count(), 2u);
  for (auto& p : parsers) {
    p->feed("<presence/>");
    EXPECT_EQ(drain(*p), std::vector<std::string>{"stanza <presence/>"});
  }
  EXPECT_EQ(pool.idle_count(), 2u);
}

// --- Memory -----------------------------------------------------------------

std::string chat_traffic() {
  std::string s;
  for (int i = 0; i < 5; ++i) {
    s += "<message to='romeo@example.net/orchard' type='chat' id='m" + std::to_string(i) +
         "'><body>Art thou not Romeo, and a Montague?</body><active "
         "xmlns='http://jabber.org/protocol/chatstates'/></message><iq type='get' id='p" +
         std::to_string(i) + "'><ping xmlns='urn:xmpp:ping'/></iq> ";
  }
  return s;
}

TEST(StreamParserMemoryTest, IdleParserReleasesExpat) {
  StreamParser p;
  p.feed(kHeader);
  drain(p);
  p.feed(chat_traffic());
  EXPECT_EQ(drain(p).size(), 10u);
  std::size_t idle = p.memory_usage();
  std::printf("idle StreamParser (release_when_idle): %zu bytes\n", idle);
  EXPECT_LT(idle, 1024u);
  // It comes back to life for the next stanza.
  p.feed("<presence/>");
  EXPECT_EQ(drain(p), std::vector<std::string>{"stanza <presence/>"});
}

TEST(StreamParserMemoryTest, KeptExpatCostsMore) {
  ParserLimits l;
  l.release_when_idle = false;
  StreamParser p(l);
  p.feed(kHeader);
  drain(p);
  p.feed(chat_traffic());
  EXPECT_EQ(drain(p).size(), 10u);
  std::size_t kept = p.memory_usage();
  std::printf("idle StreamParser keeping expat: %zu bytes\n", kept);
  EXPECT_GT(kept, 4096u);
  // Long text streams through expat in small pieces: its buffer stays small.
  p.feed("<message><body>" + std::string(100000, 'x') + "</body></message>");
  EXPECT_EQ(drain(p).size(), 1u);
  EXPECT_LT(p.memory_usage(), 16u * 1024);
  EXPECT_GT(p.memory_usage(), 4096u);
  // A long tag has to sit whole in expat's buffer, which then stays grown:
  // the parser is dropped at the next quiet moment.
  p.feed("<message id='" + std::string(100000, 'x') + "'/>");
  EXPECT_EQ(drain(p).size(), 1u);
  EXPECT_LT(p.memory_usage(), 1024u);
}

TEST(StreamParserMemoryTest, MallocDeltaOfManyIdleParsers) {
  constexpr int kParsers = 1000;
  std::string traffic = chat_traffic();
  std::vector<std::unique_ptr<StreamParser>> parsers;
  parsers.reserve(kParsers);
  std::size_t before = mallinfo2().uordblks;
  for (int i = 0; i < kParsers; ++i) {
    parsers.push_back(std::make_unique<StreamParser>());
    parsers.back()->feed(kHeader);
    drain(*parsers.back());
    parsers.back()->feed(traffic);
    drain(*parsers.back());
  }
  std::size_t per_parser = (mallinfo2().uordblks - before) / kParsers;
  std::printf("heap per idle StreamParser (mallinfo2): %zu bytes\n", per_parser);
  EXPECT_LT(per_parser, 1024u);
}

}  // namespace
}  // namespace tern::xml
