// The client side of RFC 6455 framing, as much as tern-bench needs to carry
// XMPP over WebSocket (RFC 7395): masked frames out, unmasked frames in.
//
// The decoder streams: a text payload is handed on in the pieces it arrives
// in (the XML parser behind it does not care where a message ends), so
// nothing is copied or buffered but a frame header (at most 14 bytes) and a
// control frame's payload (at most 125). An idle connection holds no buffer.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tern::bench {

enum class WsOpcode : std::uint8_t {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
};

// Appends one final (FIN) frame with `payload` masked by `mask` (a client
// MUST mask, RFC 6455 §5.3).
void append_ws_frame(std::string& out, WsOpcode opcode, std::string_view payload,
                     std::uint32_t mask);

// Sec-WebSocket-Accept for a Sec-WebSocket-Key (RFC 6455 §4.2.2).
std::string ws_accept_for(std::string_view key);

class WsDecoder {
 public:
  class Sink {
   public:
    virtual ~Sink() = default;
    // A piece of a text message (a text frame or its continuations).
    virtual void on_text(std::string_view piece) = 0;
    // A whole ping, pong or close frame.
    virtual void on_control(WsOpcode opcode, std::string_view payload) = 0;
  };

  // Decodes `bytes` from the server. False on a protocol error (masked
  // frame, binary message, reserved bits or opcode, a fragmented or
  // oversized control frame); the decoder then stays failed.
  bool feed(std::string_view bytes, Sink& sink);
  bool failed() const { return failed_; }
  // Ready for a new connection.
  void reset() { *this = WsDecoder(); }

 private:
  bool start_frame(Sink& sink);  // header_ is complete: checks it

  std::string header_;        // the frame header read so far
  std::string control_;       // a control frame's payload read so far
  std::uint64_t remaining_ = 0;  // payload bytes of the current frame still to come
  WsOpcode opcode_ = WsOpcode::kText;
  bool in_payload_ = false;
  bool in_message_ = false;   // a text message awaits its continuation frames
  bool failed_ = false;
};

}  // namespace tern::bench
