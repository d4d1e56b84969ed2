// RFC 6455 framing for the daemon's WebSocket server (docs/HTTP.md): the opening-handshake
// accept value, a decoder for the frames a client sends and an encoder for the frames the
// server sends. No extensions are negotiated, so every RSV bit must be zero.
//
// The decoder is strict: client frames must be masked, lengths minimally encoded, control
// frames unfragmented and at most 125 bytes, text UTF-8, close codes valid. A frame whose
// declared length would take the message past `max_message` fails as soon as its header is
// read (1009), so the decoder buffers at most one frame: max(max_message, 125) + 14 bytes.
//
// Pure; single-threaded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace meshslice {

enum class WsOpcode : uint8_t {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
};

// Close status codes (RFC 6455 §7.4.1) the server sends.
namespace ws_close {
inline constexpr uint16_t kNormal = 1000;
inline constexpr uint16_t kGoingAway = 1001;
inline constexpr uint16_t kProtocolError = 1002;
inline constexpr uint16_t kInvalidPayload = 1007;
inline constexpr uint16_t kPolicyViolation = 1008;
inline constexpr uint16_t kMessageTooBig = 1009;
}  // namespace ws_close

inline constexpr size_t kMaxWsControlPayload = 125;
inline constexpr std::string_view kWebSocketGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

// base64(SHA-1(key + GUID)), the Sec-WebSocket-Accept value for a Sec-WebSocket-Key.
std::string webSocketAccept(std::string_view key);
// A valid Sec-WebSocket-Key is the base64 of 16 bytes: 22 base64 characters and "==".
bool isValidWebSocketKey(std::string_view key);

// One complete message: text or binary (reassembled from its fragments), or a control frame.
struct WsMessage {
  WsOpcode opcode = WsOpcode::kText;
  std::string payload;  // unmasked; for kClose the raw payload (code + reason)
};

class WsDecoder {
 public:
  struct Failure {
    uint16_t close_code;  // what to close the connection with
    std::string reason;   // for logs and the close frame
  };

  explicit WsDecoder(size_t max_message) : max_message_(max_message) {}

  // Decodes `data` after what earlier calls left over, calling on_message for every complete
  // message and control frame in order; on_message returning false stops decoding (the rest
  // is dropped). After a Close frame nothing more is decoded. Returns the first violation;
  // the decoder is then spent and the connection must be closed with failure.close_code.
  std::optional<Failure> feed(std::string_view data, const std::function<bool(WsMessage&&)>& on_message);
  size_t buffered() const { return in_.size() - pos_; }

 private:
  // One frame from in_ at pos_: kNeedMore, or a frame consumed (delivered or buffered).
  enum class Step { kNeedMore, kFrame, kStop };
  Step next(const std::function<bool(WsMessage&&)>& on_message, std::optional<Failure>& failure);

  size_t max_message_;
  std::string in_;
  size_t pos_ = 0;
  bool in_message_ = false;  // inside a fragmented text/binary message
  WsOpcode message_opcode_ = WsOpcode::kText;
  std::string message_;
  bool done_ = false;  // failed, stopped or after Close
};

// A server frame (FIN set, never masked).
std::string encodeWsFrame(WsOpcode opcode, std::string_view payload);
// A Close frame with a status code and a reason (cut to fit 125 bytes).
std::string encodeWsClose(uint16_t code, std::string_view reason);
// Whether a close code received from a peer is one RFC 6455 §7.4 allows on the wire.
bool isValidWsCloseCode(uint16_t code);

}  // namespace meshslice
