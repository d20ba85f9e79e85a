#include "tern-bench/ws_frame.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>

namespace tern::bench {
namespace {

constexpr std::string_view kWsGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

bool is_control(WsOpcode op) { return static_cast<std::uint8_t>(op) >= 0x8; }

std::uint8_t byte_at(const std::string& s, std::size_t i) {
  return static_cast<std::uint8_t>(s[i]);
}

// Header bytes needed to know the payload length, given what is read.
std::size_t header_size(const std::string& h) {
  if (h.size() < 2) return 2;
  std::uint8_t len7 = byte_at(h, 1) & 0x7F;
  return len7 == 126 ? 4 : len7 == 127 ? 10 : 2;  // server frames carry no mask key
}

}  // namespace

void append_ws_frame(std::string& out, WsOpcode opcode, std::string_view payload,
                     std::uint32_t mask) {
  out += static_cast<char>(0x80 | static_cast<std::uint8_t>(opcode));
  const std::uint64_t n = payload.size();
  if (n < 126) {
    out += static_cast<char>(0x80 | n);
  } else if (n < 65536) {
    out += static_cast<char>(0x80 | 126);
    out += static_cast<char>(n >> 8);
    out += static_cast<char>(n & 0xFF);
  } else {
    out += static_cast<char>(0x80 | 127);
    for (int shift = 56; shift >= 0; shift -= 8) out += static_cast<char>((n >> shift) & 0xFF);
  }
  const char key[4] = {static_cast<char>(mask >> 24), static_cast<char>(mask >> 16),
                       static_cast<char>(mask >> 8), static_cast<char>(mask)};
  out.append(key, 4);
  const std::size_t at = out.size();
  out.append(payload);
  for (std::size_t i = 0; i < payload.size(); ++i) out[at + i] ^= key[i & 3];
}

std::string ws_accept_for(std::string_view key) {
  std::string text(key);
  text += kWsGuid;
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  unsigned char b64[4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1];
  int n = EVP_EncodeBlock(b64, digest, SHA_DIGEST_LENGTH);
  return std::string(reinterpret_cast<char*>(b64), static_cast<std::size_t>(n));
}

bool WsDecoder::start_frame(Sink& sink) {
  const std::uint8_t b0 = byte_at(header_, 0), b1 = byte_at(header_, 1);
  const bool fin = b0 & 0x80;
  const auto op = static_cast<WsOpcode>(b0 & 0x0F);
  if (b0 & 0x70) return false;  // no extension was negotiated
  if (b1 & 0x80) return false;  // a server MUST NOT mask (RFC 6455 §5.1)
  std::uint64_t len = b1 & 0x7F;
  if (len == 126) {
    len = (std::uint64_t{byte_at(header_, 2)} << 8) | byte_at(header_, 3);
  } else if (len == 127) {
    len = 0;
    for (std::size_t i = 2; i < 10; ++i) len = (len << 8) | byte_at(header_, i);
    if (len >> 63) return false;
  }
  switch (op) {
    case WsOpcode::kClose:
    case WsOpcode::kPing:
    case WsOpcode::kPong:
      if (!fin || len > 125) return false;
      break;
    case WsOpcode::kText:
      if (in_message_) return false;  // the previous message is unfinished
      in_message_ = !fin;
      break;
    case WsOpcode::kContinuation:
      if (!in_message_) return false;
      in_message_ = !fin;
      break;
    default:
      return false;  // binary (RFC 7395 §3.2: XMPP is text) or reserved
  }
  opcode_ = op;
  remaining_ = len;
  header_.clear();
  in_payload_ = true;
  if (len == 0 && is_control(op)) {
    in_payload_ = false;
    sink.on_control(op, {});
  } else if (len == 0) {
    in_payload_ = false;
  }
  return true;
}

bool WsDecoder::feed(std::string_view bytes, Sink& sink) {
  if (failed_) return false;
  while (!bytes.empty()) {
    if (!in_payload_) {
      // Byte by byte only up to 10 header bytes; the length decides how many.
      std::size_t need = header_size(header_);
      while (header_.size() < need && !bytes.empty()) {
        header_ += bytes.front();
        bytes.remove_prefix(1);
        need = header_size(header_);
      }
      if (header_.size() < need) return true;
      if (!start_frame(sink)) {
        failed_ = true;
        return false;
      }
      continue;
    }
    const std::size_t n =
        static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, bytes.size()));
    const std::string_view piece = bytes.substr(0, n);
    bytes.remove_prefix(n);
    remaining_ -= n;
    if (is_control(opcode_)) {
      control_.append(piece);
      if (remaining_ == 0) {
        in_payload_ = false;
        std::string payload = std::move(control_);
        control_.clear();
        sink.on_control(opcode_, payload);
      }
    } else {
      if (remaining_ == 0) in_payload_ = false;
      sink.on_text(piece);
    }
  }
  return true;
}

}  // namespace tern::bench
