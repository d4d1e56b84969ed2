#include "mesh/envelope.h"

#include <cassert>
#include <iterator>
#include <span>
#include <type_traits>

#include "base/msgpack_limits.h"
#include "base/msgpack_writer.h"

namespace meshslice {

namespace {

using Elements = std::span<const msgpack::object>;

Status fieldStatus(const Status& st, const char* field) {
  if (st.isOk()) return st;
  return Status(st.code(), std::string(field) + ": " + st.message());
}

Status checkPayload(const Bytes& payload, const char* field) {
  if (payload.size() <= kMaxPayloadSize) return Status::ok();
  return Status(Code::kTooLarge, std::string(field) + ": payload of " +
                                     std::to_string(payload.size()) + " bytes exceeds " +
                                     std::to_string(kMaxPayloadSize));
}

Status validate(const Hello& h) {
  if (h.proto_min < 1 || h.proto_min > h.proto_max) {
    return invalidArgument("hello: protocol range [" + std::to_string(h.proto_min) + ", " +
                           std::to_string(h.proto_max) + "] is empty or starts at 0");
  }
  MS_RETURN_IF_ERROR(fieldStatus(validateDeviceName(h.name), "hello.name"));
  if (h.capabilities.size() > kMaxCapabilities) {
    return Status(Code::kTooLarge, "hello.caps: more than " + std::to_string(kMaxCapabilities));
  }
  for (const std::string& cap : h.capabilities) {
    MS_RETURN_IF_ERROR(fieldStatus(validateCapability(cap), "hello.caps"));
  }
  return Status::ok();
}

Status validate(const Heartbeat&) { return Status::ok(); }

Status validate(const Goodbye& g) {
  if (g.reason.size() > kMaxReasonLength) {
    return Status(Code::kTooLarge, "goodbye.reason: longer than " +
                                       std::to_string(kMaxReasonLength) + " bytes");
  }
  if (!isValidUtf8(g.reason)) return invalidArgument("goodbye.reason: not valid UTF-8");
  return Status::ok();
}

Status validate(const BusMessage& m) {
  MS_RETURN_IF_ERROR(fieldStatus(validateNamespace(m.ns, /*allow_reserved=*/true), "message.ns"));
  return checkPayload(m.payload, "message.payload");
}

Status validate(const Request& r) {
  MS_RETURN_IF_ERROR(fieldStatus(validateNamespace(r.ns, /*allow_reserved=*/true), "request.ns"));
  return checkPayload(r.payload, "request.payload");
}

Status validate(const Reply& r) {
  if (static_cast<uint64_t>(r.code) > kMaxReplyCode) return invalidArgument("reply.code: unknown");
  return checkPayload(r.payload, "reply.payload");
}

// Semantic checks on a decoded envelope report kMalformed: the bytes came from a peer.
Status asMalformed(Status st) {
  if (st.isOk() || st.code() == Code::kTooLarge) return st;
  return malformed(st.message());
}

void encodeBody(MsgpackWriter& w, const Hello& h) {
  auto& p = w.packer();
  p.pack_array(7);
  p.pack_uint64(static_cast<uint64_t>(EnvelopeType::kHello));
  p.pack_uint64(h.proto_min);
  p.pack_uint64(h.proto_max);
  w.packBin(h.device_id.view());
  w.packStr(h.name);
  p.pack_array(static_cast<uint32_t>(h.capabilities.size()));
  for (const std::string& cap : h.capabilities) w.packStr(cap);
  p.pack_uint64(h.listen_port);
}

void encodeBody(MsgpackWriter& w, const Heartbeat& h) {
  w.packer().pack_array(2);
  w.packer().pack_uint64(static_cast<uint64_t>(EnvelopeType::kHeartbeat));
  w.packer().pack_uint64(h.seq);
}

void encodeBody(MsgpackWriter& w, const Goodbye& g) {
  w.packer().pack_array(2);
  w.packer().pack_uint64(static_cast<uint64_t>(EnvelopeType::kGoodbye));
  w.packStr(g.reason);
}

void encodeBody(MsgpackWriter& w, const BusMessage& m) {
  w.packer().pack_array(3);
  w.packer().pack_uint64(static_cast<uint64_t>(EnvelopeType::kMessage));
  w.packStr(m.ns);
  w.packBin(m.payload);
}

void encodeBody(MsgpackWriter& w, const Request& r) {
  w.packer().pack_array(4);
  w.packer().pack_uint64(static_cast<uint64_t>(EnvelopeType::kRequest));
  w.packer().pack_uint64(r.id);
  w.packStr(r.ns);
  w.packBin(r.payload);
}

void encodeBody(MsgpackWriter& w, const Reply& r) {
  w.packer().pack_array(4);
  w.packer().pack_uint64(static_cast<uint64_t>(EnvelopeType::kReply));
  w.packer().pack_uint64(r.id);
  w.packer().pack_uint64(static_cast<uint64_t>(r.code));
  w.packBin(r.payload);
}

Result<Envelope> decodeHello(Elements e) {
  Hello h;
  uint64_t v;
  MS_RETURN_IF_ERROR(readUint(e[1], UINT32_MAX, v, "hello.proto_min"));
  h.proto_min = static_cast<uint32_t>(v);
  MS_RETURN_IF_ERROR(readUint(e[2], UINT32_MAX, v, "hello.proto_max"));
  h.proto_max = static_cast<uint32_t>(v);
  DeviceId::Raw raw;
  MS_RETURN_IF_ERROR(readBinExact(e[3], raw, "hello.device_id"));
  h.device_id = DeviceId(raw);
  MS_RETURN_IF_ERROR(readStr(e[4], kMaxNameLength, h.name, "hello.name"));
  Elements caps;
  MS_RETURN_IF_ERROR(readArray(e[5], 0, kMaxCapabilities, caps, "hello.caps"));
  h.capabilities.resize(caps.size());
  for (size_t i = 0; i < caps.size(); ++i) {
    MS_RETURN_IF_ERROR(readStr(caps[i], kMaxCapabilityLength, h.capabilities[i], "hello.caps"));
  }
  MS_RETURN_IF_ERROR(readUint(e[6], UINT16_MAX, v, "hello.listen_port"));
  h.listen_port = static_cast<uint16_t>(v);
  MS_RETURN_IF_ERROR(asMalformed(validate(h)));
  return Envelope(std::move(h));
}

Result<Envelope> decodeHeartbeat(Elements e) {
  Heartbeat h;
  MS_RETURN_IF_ERROR(readUint(e[1], UINT64_MAX, h.seq, "heartbeat.seq"));
  return Envelope(h);
}

Result<Envelope> decodeGoodbye(Elements e) {
  Goodbye g;
  MS_RETURN_IF_ERROR(readStr(e[1], kMaxReasonLength, g.reason, "goodbye.reason"));
  return Envelope(std::move(g));
}

Result<Envelope> decodeMessage(Elements e) {
  BusMessage m;
  MS_RETURN_IF_ERROR(readStr(e[1], kMaxNamespaceLength, m.ns, "message.ns"));
  MS_RETURN_IF_ERROR(readBin(e[2], kMaxPayloadSize, m.payload, "message.payload"));
  MS_RETURN_IF_ERROR(asMalformed(validate(m)));
  return Envelope(std::move(m));
}

Result<Envelope> decodeRequest(Elements e) {
  Request r;
  uint64_t id;
  MS_RETURN_IF_ERROR(readUint(e[1], kMaxRequestId, id, "request.id"));
  r.id = static_cast<uint32_t>(id);
  MS_RETURN_IF_ERROR(readStr(e[2], kMaxNamespaceLength, r.ns, "request.ns"));
  MS_RETURN_IF_ERROR(readBin(e[3], kMaxPayloadSize, r.payload, "request.payload"));
  MS_RETURN_IF_ERROR(asMalformed(validate(r)));
  return Envelope(std::move(r));
}

Result<Envelope> decodeReply(Elements e) {
  Reply r;
  uint64_t v;
  MS_RETURN_IF_ERROR(readUint(e[1], kMaxRequestId, v, "reply.id"));
  r.id = static_cast<uint32_t>(v);
  MS_RETURN_IF_ERROR(readUint(e[2], kMaxReplyCode, v, "reply.code"));
  r.code = static_cast<ReplyCode>(v);
  MS_RETURN_IF_ERROR(readBin(e[3], kMaxPayloadSize, r.payload, "reply.payload"));
  return Envelope(std::move(r));
}

struct EnvelopeSpec {
  size_t arity;  // including the type code
  Result<Envelope> (*decode)(Elements);
};

// Indexed by type code; entry 0 is unused.
constexpr EnvelopeSpec kSpecs[] = {
    {0, nullptr},         {7, decodeHello},   {2, decodeHeartbeat}, {2, decodeGoodbye},
    {3, decodeMessage},   {4, decodeRequest}, {4, decodeReply},
};

}  // namespace

EnvelopeType envelopeType(const Envelope& envelope) {
  // The variant lists the alternatives in type-code order.
  static_assert(std::is_same_v<std::variant_alternative_t<0, Envelope>, Hello>);
  static_assert(std::is_same_v<std::variant_alternative_t<5, Envelope>, Reply>);
  return static_cast<EnvelopeType>(envelope.index() + 1);
}

const char* envelopeTypeName(EnvelopeType type) {
  switch (type) {
    case EnvelopeType::kHello: return "hello";
    case EnvelopeType::kHeartbeat: return "heartbeat";
    case EnvelopeType::kGoodbye: return "goodbye";
    case EnvelopeType::kMessage: return "message";
    case EnvelopeType::kRequest: return "request";
    case EnvelopeType::kReply: return "reply";
  }
  return "unknown";
}

Status validateEnvelope(const Envelope& envelope) {
  return std::visit([](const auto& e) { return validate(e); }, envelope);
}

Bytes encodeEnvelope(const Envelope& envelope) {
  assert(validateEnvelope(envelope).isOk() && "encodeEnvelope needs a valid envelope");
  Bytes out;
  MsgpackWriter writer(out);
  std::visit([&writer](const auto& e) { encodeBody(writer, e); }, envelope);
  return out;
}

Bytes messageEnvelopeHeader(std::string_view ns, size_t payload_size) {
  assert(validateNamespace(ns, /*allow_reserved=*/true).isOk() && payload_size <= kMaxPayloadSize);
  Bytes out;
  out.reserve(ns.size() + 16);  // array, type, str and bin headers
  MsgpackWriter w(out);
  w.packer().pack_array(3);
  w.packer().pack_uint64(static_cast<uint64_t>(EnvelopeType::kMessage));
  w.packStr(ns);
  w.packer().pack_bin(static_cast<uint32_t>(payload_size));
  return out;
}

Bytes encodeMessageEnvelope(std::string_view ns, ByteView payload) {
  Bytes out = messageEnvelopeHeader(ns, payload.size());
  out.reserve(out.size() + payload.size());
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

std::optional<MessageEnvelopeView> parseMessageEnvelope(ByteView b) {
  if (b.size() < 4 || b.size() > kMaxMessageSize || b[0] != 0x93 || b[1] != 0x04) return std::nullopt;
  size_t p = 2, ns_len = 0;
  if ((b[p] & 0xe0) == 0xa0) {
    ns_len = b[p] & 0x1f;
    p += 1;
  } else if (b[p] == 0xd9) {
    ns_len = b[p + 1];
    p += 2;
  } else {
    return std::nullopt;
  }
  if (b.size() - p < ns_len + 2) return std::nullopt;
  const std::string_view ns(reinterpret_cast<const char*>(b.data() + p), ns_len);
  p += ns_len;
  size_t width = b[p] == 0xc4 ? 1 : b[p] == 0xc5 ? 2 : b[p] == 0xc6 ? 4 : 0;
  if (width == 0 || b.size() - p - 1 < width) return std::nullopt;
  size_t len = 0;
  for (size_t i = 0; i < width; ++i) len = (len << 8) | b[p + 1 + i];
  p += 1 + width;
  if (len != b.size() - p || len > kMaxPayloadSize) return std::nullopt;
  if (!validateNamespace(ns, /*allow_reserved=*/true).isOk()) return std::nullopt;
  return MessageEnvelopeView{ns, b.subspan(p)};
}

Result<Envelope> decodeEnvelope(ByteView bytes) {
  if (bytes.size() > kMaxMessageSize) {
    return tooLarge("envelope of " + std::to_string(bytes.size()) + " bytes exceeds " +
                    std::to_string(kMaxMessageSize));
  }
  Result<msgpack::object_handle> handle = unpackBounded(bytes, kMaxPayloadSize);
  if (!handle.isOk()) return handle.status();
  Elements elements;
  MS_RETURN_IF_ERROR(
      readArray(handle->get(), 1, kMsgpackMaxContainer, elements, "envelope"));
  uint64_t type;
  MS_RETURN_IF_ERROR(readUint(elements[0], UINT64_MAX, type, "envelope.type"));
  if (type == 0 || type >= std::size(kSpecs)) {
    return malformed("envelope: unknown type " + std::to_string(type));
  }
  const EnvelopeSpec& spec = kSpecs[type];
  if (elements.size() != spec.arity) {
    return malformed(std::string("envelope: ") + envelopeTypeName(static_cast<EnvelopeType>(type)) +
                     " has " + std::to_string(elements.size()) + " elements, expected " +
                     std::to_string(spec.arity));
  }
  return spec.decode(elements);
}

}  // namespace meshslice
