#include "node/websocket_codec.h"

#include "base/msgpack_limits.h"
#include "node/json_util.h"
#include "node/sha1.h"

namespace meshslice {
namespace {

bool isBase64Char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

bool isControl(WsOpcode op) { return (static_cast<uint8_t>(op) & 0x8) != 0; }

bool isKnownOpcode(uint8_t op) {
  return op == 0x0 || op == 0x1 || op == 0x2 || op == 0x8 || op == 0x9 || op == 0xA;
}

// A cut that does not split a UTF-8 sequence.
std::string_view utf8Prefix(std::string_view s, size_t max) {
  if (s.size() <= max) return s;
  size_t n = max;
  while (n > 0 && (static_cast<uint8_t>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

}  // namespace

std::string webSocketAccept(std::string_view key) {
  std::string input(key);
  input += kWebSocketGuid;
  Sha1Digest digest = sha1(input);
  return toBase64(ByteView(digest.data(), digest.size()));
}

bool isValidWebSocketKey(std::string_view key) {
  if (key.size() != 24 || key.substr(22) != "==") return false;
  for (size_t i = 0; i < 22; ++i)
    if (!isBase64Char(key[i])) return false;
  // The last character before the padding carries 2 bits of data and 4 zero bits.
  return std::string_view("AQgw").find(key[21]) != std::string_view::npos;
}

bool isValidWsCloseCode(uint16_t code) {
  if (code >= 3000 && code <= 4999) return true;
  switch (code) {
    case 1000: case 1001: case 1002: case 1003: case 1007: case 1008: case 1009: case 1010:
    case 1011: case 1012: case 1013: case 1014:
      return true;
    default:
      return false;
  }
}

std::optional<WsDecoder::Failure> WsDecoder::feed(std::string_view data,
                                                   const std::function<bool(WsMessage&&)>& on_message) {
  if (done_) return std::nullopt;
  in_.append(data);
  std::optional<Failure> failure;
  for (;;) {
    Step step = next(on_message, failure);
    if (step == Step::kFrame) continue;
    if (step == Step::kStop) {
      done_ = true;
      in_.clear();
      pos_ = 0;
    }
    break;
  }
  if (!done_ && pos_ > 0) {
    in_.erase(0, pos_);
    pos_ = 0;
  }
  return failure;
}

WsDecoder::Step WsDecoder::next(const std::function<bool(WsMessage&&)>& on_message, std::optional<Failure>& failure) {
  auto fail = [&](uint16_t code, std::string reason) {
    failure = Failure{code, std::move(reason)};
    return Step::kStop;
  };
  const size_t avail = in_.size() - pos_;
  if (avail < 2) return Step::kNeedMore;
  const auto* p = reinterpret_cast<const uint8_t*>(in_.data() + pos_);
  const bool fin = p[0] & 0x80;
  if (p[0] & 0x70) return fail(ws_close::kProtocolError, "reserved bits set (no extension was negotiated)");
  const uint8_t raw_op = p[0] & 0x0F;
  if (!isKnownOpcode(raw_op)) return fail(ws_close::kProtocolError, "unknown opcode " + std::to_string(raw_op));
  const auto op = static_cast<WsOpcode>(raw_op);
  if (!(p[1] & 0x80)) return fail(ws_close::kProtocolError, "client frames must be masked");
  const uint8_t len7 = p[1] & 0x7F;
  const size_t ext = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
  if (isControl(op)) {
    if (!fin) return fail(ws_close::kProtocolError, "fragmented control frame");
    if (len7 > kMaxWsControlPayload) return fail(ws_close::kProtocolError, "control frame over 125 bytes");
  } else if (op == WsOpcode::kContinuation && !in_message_) {
    return fail(ws_close::kProtocolError, "continuation frame without a message to continue");
  } else if (op != WsOpcode::kContinuation && in_message_) {
    return fail(ws_close::kProtocolError, "new data frame inside a fragmented message");
  }
  if (avail < 2 + ext) return Step::kNeedMore;
  uint64_t len = len7;
  if (ext == 2) {
    len = uint64_t(p[2]) << 8 | p[3];
    if (len < 126) return fail(ws_close::kProtocolError, "length not minimally encoded");
  } else if (ext == 8) {
    len = 0;
    for (int i = 0; i < 8; ++i) len = len << 8 | p[2 + i];
    if (len >> 63) return fail(ws_close::kProtocolError, "length with the most significant bit set");
    if (len <= 0xFFFF) return fail(ws_close::kProtocolError, "length not minimally encoded");
  }
  const size_t so_far = in_message_ ? message_.size() : 0;
  if (!isControl(op) && len > max_message_ - so_far)
    return fail(ws_close::kMessageTooBig, "message over " + std::to_string(max_message_) + " bytes");
  const size_t header = 2 + ext + 4;
  if (avail < header + len) return Step::kNeedMore;
  const uint8_t* mask = p + 2 + ext;
  std::string payload(reinterpret_cast<const char*>(p + header), static_cast<size_t>(len));
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(payload[i] ^ mask[i % 4]);
  pos_ += header + static_cast<size_t>(len);

  if (isControl(op)) {
    if (op == WsOpcode::kClose) {
      if (payload.size() == 1) return fail(ws_close::kProtocolError, "close frame with a 1-byte payload");
      if (payload.size() >= 2) {
        uint16_t code = uint16_t(uint8_t(payload[0]) << 8 | uint8_t(payload[1]));
        if (!isValidWsCloseCode(code)) return fail(ws_close::kProtocolError, "invalid close code " + std::to_string(code));
        if (!isValidUtf8(std::string_view(payload).substr(2))) return fail(ws_close::kInvalidPayload, "close reason is not UTF-8");
      }
      on_message(WsMessage{op, std::move(payload)});
      return Step::kStop;  // nothing may follow a Close
    }
    return on_message(WsMessage{op, std::move(payload)}) ? Step::kFrame : Step::kStop;
  }
  if (op != WsOpcode::kContinuation) {
    message_opcode_ = op;
    message_.clear();
  }
  message_ += payload;
  in_message_ = !fin;
  if (!fin) return Step::kFrame;
  if (message_opcode_ == WsOpcode::kText && !isValidUtf8(message_))
    return fail(ws_close::kInvalidPayload, "text message is not valid UTF-8");
  WsMessage m{message_opcode_, std::move(message_)};
  message_.clear();
  return on_message(std::move(m)) ? Step::kFrame : Step::kStop;
}

std::string encodeWsFrame(WsOpcode opcode, std::string_view payload) {
  std::string out;
  out.reserve(payload.size() + 10);
  out.push_back(static_cast<char>(0x80 | static_cast<uint8_t>(opcode)));
  const uint64_t len = payload.size();
  if (len < 126) {
    out.push_back(static_cast<char>(len));
  } else if (len <= 0xFFFF) {
    out.push_back(static_cast<char>(126));
    out.push_back(static_cast<char>(len >> 8));
    out.push_back(static_cast<char>(len & 0xFF));
  } else {
    out.push_back(static_cast<char>(127));
    for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((len >> (8 * i)) & 0xFF));
  }
  out.append(payload);
  return out;
}

std::string encodeWsClose(uint16_t code, std::string_view reason) {
  std::string payload;
  payload.push_back(static_cast<char>(code >> 8));
  payload.push_back(static_cast<char>(code & 0xFF));
  payload.append(utf8Prefix(reason, kMaxWsControlPayload - 2));
  return encodeWsFrame(WsOpcode::kClose, payload);
}

}  // namespace meshslice
