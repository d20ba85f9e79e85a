#include "tern-bench/ws_frame.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace tern::bench {
namespace {

struct Recorder : WsDecoder::Sink {
  std::string text;
  std::vector<std::pair<WsOpcode, std::string>> controls;
  void on_text(std::string_view piece) override { text.append(piece); }
  void on_control(WsOpcode op, std::string_view payload) override {
    controls.emplace_back(op, std::string(payload));
  }
};

// A server frame: never masked.
std::string server_frame(std::uint8_t b0, std::string_view payload) {
  std::string f;
  f += static_cast<char>(b0);
  const std::uint64_t n = payload.size();
  if (n < 126) {
    f += static_cast<char>(n);
  } else if (n < 65536) {
    f += static_cast<char>(126);
    f += static_cast<char>(n >> 8);
    f += static_cast<char>(n & 0xFF);
  } else {
    f += static_cast<char>(127);
    for (int s = 56; s >= 0; s -= 8) f += static_cast<char>((n >> s) & 0xFF);
  }
  f.append(payload);
  return f;
}

TEST(WsFrame, AcceptKeyIsTheRfc6455Example) {
  EXPECT_EQ(ws_accept_for("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(WsFrame, ClientFramesAreFinalMaskedAndUnmaskToThePayload) {
  for (std::size_t n : {0u, 5u, 125u, 126u, 65535u, 65536u}) {
    std::string payload(n, 'x');
    for (std::size_t i = 0; i < n; ++i) payload[i] = static_cast<char>('a' + i % 26);
    std::string f;
    append_ws_frame(f, WsOpcode::kText, payload, 0x37FA213D);
    ASSERT_GE(f.size(), 6u);
    EXPECT_EQ(static_cast<std::uint8_t>(f[0]), 0x81) << n;  // FIN, text
    std::uint8_t b1 = static_cast<std::uint8_t>(f[1]);
    EXPECT_TRUE(b1 & 0x80) << "mask bit, n=" << n;
    std::size_t at = 2;
    std::uint64_t len = b1 & 0x7F;
    if (len == 126) {
      len = (std::uint64_t(std::uint8_t(f[2])) << 8) | std::uint8_t(f[3]);
      at = 4;
    } else if (len == 127) {
      len = 0;
      for (int i = 2; i < 10; ++i) len = (len << 8) | std::uint8_t(f[i]);
      at = 10;
    }
    EXPECT_EQ(len, n);
    EXPECT_EQ(n < 126 ? 2u : n < 65536 ? 4u : 10u, at) << "shortest length form";
    const std::string key = f.substr(at, 4);
    EXPECT_EQ(key, std::string("\x37\xFA\x21\x3D"));
    ASSERT_EQ(f.size(), at + 4 + n);
    std::string unmasked = f.substr(at + 4);
    for (std::size_t i = 0; i < n; ++i) unmasked[i] ^= key[i % 4];
    EXPECT_EQ(unmasked, payload);
  }
}

TEST(WsFrame, MaskKeyChangesTheBytesOnTheWire) {
  std::string a, b;
  append_ws_frame(a, WsOpcode::kText, "<presence/>", 1);
  append_ws_frame(b, WsOpcode::kText, "<presence/>", 2);
  EXPECT_NE(a, b);
}

TEST(WsFrame, DecodesTextFramesOfEveryLengthFormFedByteByByte) {
  std::string wire;
  std::string expect;
  for (std::size_t n : {3u, 200u, 70000u}) {
    std::string p(n, 'q');
    p.front() = '<';
    wire += server_frame(0x81, p);
    expect += p;
  }
  Recorder r;
  WsDecoder d;
  for (char c : wire) ASSERT_TRUE(d.feed(std::string_view(&c, 1), r));
  EXPECT_EQ(r.text, expect);
  EXPECT_TRUE(r.controls.empty());
}

TEST(WsFrame, ContinuationFramesJoinTheMessage) {
  std::string wire = server_frame(0x01, "<mess") + server_frame(0x89, "hi") +  // ping in between
                     server_frame(0x00, "age/") + server_frame(0x80, ">");
  Recorder r;
  WsDecoder d;
  ASSERT_TRUE(d.feed(wire, r));
  EXPECT_EQ(r.text, "<message/>");
  ASSERT_EQ(r.controls.size(), 1u);
  EXPECT_EQ(r.controls[0].first, WsOpcode::kPing);
  EXPECT_EQ(r.controls[0].second, "hi");
}

TEST(WsFrame, ControlFramesArriveWholeEvenWhenSplit) {
  std::string wire = server_frame(0x88, std::string("\x03\xE8", 2) + "bye") + server_frame(0x8A, "");
  Recorder r;
  WsDecoder d;
  ASSERT_TRUE(d.feed(wire.substr(0, 4), r));
  EXPECT_TRUE(r.controls.empty());
  ASSERT_TRUE(d.feed(wire.substr(4), r));
  ASSERT_EQ(r.controls.size(), 2u);
  EXPECT_EQ(r.controls[0].first, WsOpcode::kClose);
  EXPECT_EQ(r.controls[0].second, std::string("\x03\xE8", 2) + "bye");
  EXPECT_EQ(r.controls[1].first, WsOpcode::kPong);
  EXPECT_EQ(r.controls[1].second, "");
}

TEST(WsFrame, RejectsWhatAServerMustNotSend) {
  const std::vector<std::pair<const char*, std::string>> bad = {
      {"masked", std::string("\x81\x81\x00\x00\x00\x00x", 7)},
      {"binary", server_frame(0x82, "x")},
      {"reserved bit", server_frame(0xC1, "x")},
      {"reserved opcode", server_frame(0x83, "x")},
      {"continuation first", server_frame(0x80, "x")},
      {"text inside a message", server_frame(0x01, "a") + server_frame(0x81, "b")},
      {"fragmented ping", server_frame(0x09, "x")},
      {"long ping", server_frame(0x89, std::string(126, 'x'))},
      {"64-bit length with the top bit", std::string("\x81\x7F\x80\0\0\0\0\0\0\0", 10)},
  };
  for (const auto& [what, wire] : bad) {
    Recorder r;
    WsDecoder d;
    EXPECT_FALSE(d.feed(wire, r)) << what;
    EXPECT_TRUE(d.failed()) << what;
    EXPECT_FALSE(d.feed(server_frame(0x81, "ok"), r)) << what << ": stays failed";
  }
}

TEST(WsFrame, ResetForgetsAHalfReadFrame) {
  Recorder r;
  WsDecoder d;
  ASSERT_TRUE(d.feed(std::string("\x81\x05<a", 4), r));
  d.reset();
  ASSERT_TRUE(d.feed(server_frame(0x81, "<b/>"), r));
  EXPECT_EQ(r.text, "<a<b/>");
}

}  // namespace
}  // namespace tern::bench
