// Link envelopes: the msgpack messages inside a link's encrypted frames (docs/PROTOCOL.md,
// "Envelopes"). Each envelope is one msgpack array whose first element is its type code:
//   1 Hello     [1, proto_min, proto_max, device_id:bin(20), name:str, caps:[str...], listen_port]
//   2 Heartbeat [2, seq]
//   3 Goodbye   [3, reason:str]
//   4 Message   [4, ns:str, payload:bin]
//   5 Request   [5, id, ns:str, payload:bin]
//   6 Reply     [6, id, code, payload:bin]
// Decoding is strict (exact arity, types, every limit of protocol_constants.h, namespace
// syntax) and bounded; encoding is canonical. Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "mesh/device_id.h"
#include "mesh/protocol_constants.h"

namespace meshslice {

// First message on every link. device_id is the sender's claim; the link compares it with the
// ID derived from the key the handshake authenticated and closes the link on a mismatch.
struct Hello {
  uint32_t proto_min = kMinProtocolVersion;  // 1 <= proto_min <= proto_max
  uint32_t proto_max = kProtocolVersion;
  DeviceId device_id;
  std::string name;                        // validateDeviceName()
  std::vector<std::string> capabilities;   // <= kMaxCapabilities, validateCapability() each
  // The sender's TCP listen port (0: not listening). With the link's remote IP it tells the
  // receiver where to probe when the link drops: a refused probe means the process is gone.
  uint16_t listen_port = 0;
  friend bool operator==(const Hello&, const Hello&) = default;
};

struct Heartbeat {
  uint64_t seq = 0;
  friend bool operator==(const Heartbeat&, const Heartbeat&) = default;
};

struct Goodbye {
  std::string reason;  // UTF-8, <= kMaxReasonLength bytes
  friend bool operator==(const Goodbye&, const Goodbye&) = default;
};

// A publish or send on the bus.
struct BusMessage {
  std::string ns;  // validateNamespace(ns, /*allow_reserved=*/true)
  Bytes payload;   // <= kMaxPayloadSize
  friend bool operator==(const BusMessage&, const BusMessage&) = default;
};

struct Request {
  uint32_t id = 0;
  std::string ns;
  Bytes payload;
  friend bool operator==(const Request&, const Request&) = default;
};

struct Reply {
  uint32_t id = 0;  // the Request's id
  ReplyCode code = ReplyCode::kOk;
  Bytes payload;    // kOk: the handler's reply; kError: a UTF-8 message by convention
  friend bool operator==(const Reply&, const Reply&) = default;
};

using Envelope = std::variant<Hello, Heartbeat, Goodbye, BusMessage, Request, Reply>;

EnvelopeType envelopeType(const Envelope& envelope);
// "hello", "heartbeat", ... for logs and counters.
const char* envelopeTypeName(EnvelopeType type);

// Checks every field against the protocol limits. kInvalidArgument (for values built locally)
// naming the field.
Status validateEnvelope(const Envelope& envelope);

// Canonical msgpack encoding (at most kMaxMessageSize bytes). The envelope must pass
// validateEnvelope() (asserted): callers validate user input before building envelopes.
Bytes encodeEnvelope(const Envelope& envelope);
// The bytes of encodeEnvelope(BusMessage{ns, payload}), without copying the payload into a
// BusMessage first (the hot path of every bus send). `ns` and `payload` must be valid as there.
Bytes encodeMessageEnvelope(std::string_view ns, ByteView payload);
// The bytes that precede the payload in encodeMessageEnvelope(ns, payload) (at most
// kMaxEnvelopeOverhead): a sender can queue them and the payload as two parts, no copy.
Bytes messageEnvelopeHeader(std::string_view ns, size_t payload_size);

// The receive side's hot path: a Message envelope in its canonical form ([4, fixstr/str8 ns,
// bin payload], nothing after it), parsed without copying. Returns views into `bytes`, or
// nullopt for anything else (other types, other integer or length forms, an invalid namespace,
// trailing bytes): decodeEnvelope() then decides. Whatever this accepts, decodeEnvelope()
// accepts as the same BusMessage (the envelope fuzzer checks both).
struct MessageEnvelopeView {
  std::string_view ns;
  ByteView payload;
};
std::optional<MessageEnvelopeView> parseMessageEnvelope(ByteView bytes);

// Decodes one envelope from untrusted bytes. kTooLarge if bytes exceed kMaxMessageSize or a
// container/str/bin limit; kMalformed for anything else that is not exactly one valid envelope.
// Never throws; memory use is bounded by a small multiple of bytes.size().
Result<Envelope> decodeEnvelope(ByteView bytes);

}  // namespace meshslice
