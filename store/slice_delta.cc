#include "store/slice_delta.h"

#include <sodium.h>

#include <cassert>
#include <span>

#include "base/msgpack_limits.h"
#include "base/msgpack_writer.h"
#include "store/slice_tree.h"

namespace meshslice {

namespace {

using Elements = std::span<const msgpack::object>;

constexpr size_t kSliceDeltaArity = 11;
constexpr size_t kDeltaRefusedArity = 4;

// Worst case of an encoded SliceDelta: header fields, then every op a copy of two uint32s (offsets
// and lengths are at most kMaxSliceData) or a literal (its bin header fits the same 11 bytes),
// plus at most kMaxSliceData literal bytes in all.
constexpr size_t kMaxDeltaHeaderEncoded = 1 + 1 + (2 + kMaxStoreIdLength) + (2 + kDeviceIdSize) + 9 + 9 + 9 + 9 +
                                          9 + 9 + (2 + kSliceDigestSize) + 3;
static_assert(kMaxDeltaHeaderEncoded + kMaxDeltaOps * (1 + 5 + 5) + kMaxSliceData <= kMaxPayloadSize,
              "every valid delta fits one bus payload");

Status validate(const SliceDelta& d) {
  MS_RETURN_IF_ERROR(validateStoreId(d.store_id));
  if (d.ops.size() > kMaxDeltaOps) return tooLarge("slice_delta.ops: more than " + std::to_string(kMaxDeltaOps));
  uint64_t literal = 0;
  for (const DeltaOp& op : d.ops) {
    if (op.copy ? op.length == 0 : op.literal.empty()) return invalidArgument("slice_delta.ops: an empty op");
    literal += op.literal.size();
  }
  if (literal > kMaxSliceData) return tooLarge("slice_delta.ops: literal bytes over the slice limit");
  return Status::ok();
}

Status validate(const DeltaRefused& r) {
  MS_RETURN_IF_ERROR(validateStoreId(r.store_id));
  const auto reason = static_cast<uint64_t>(r.reason);
  if (reason == 0 || reason > kMaxDeltaRefusal) return invalidArgument("delta_refused.reason: unknown");
  return Status::ok();
}

void encodeBody(MsgpackWriter& w, const SliceDelta& d) {
  auto& p = w.packer();
  p.pack_array(kSliceDeltaArity);
  p.pack_uint64(static_cast<uint64_t>(d.digest_kind == DeltaDigest::kTree ? DeltaMessageType::kSliceDeltaTree
                                                                         : DeltaMessageType::kSliceDelta));
  w.packStr(d.store_id);
  w.packBin(d.device_id.view());
  p.pack_uint64(d.base_version);
  p.pack_uint64(d.base_incarnation);
  p.pack_uint64(d.version);
  p.pack_int64(d.updated_at);
  p.pack_uint64(d.incarnation);
  p.pack_uint64(d.size);
  w.packBin(ByteView(d.digest.data(), d.digest.size()));
  p.pack_array(static_cast<uint32_t>(d.ops.size()));
  for (const DeltaOp& op : d.ops) {
    if (op.copy) {
      p.pack_array(2);
      p.pack_uint64(op.offset);
      p.pack_uint64(op.length);
    } else {
      w.packBin(op.literal);
    }
  }
}

void encodeBody(MsgpackWriter& w, const DeltaRefused& r) {
  auto& p = w.packer();
  p.pack_array(kDeltaRefusedArity);
  p.pack_uint64(static_cast<uint64_t>(DeltaMessageType::kDeltaRefused));
  w.packStr(r.store_id);
  p.pack_uint64(r.version);
  p.pack_uint64(static_cast<uint64_t>(r.reason));
}

Status readOp(const msgpack::object& o, DeltaOp& op) {
  if (o.type == msgpack::type::BIN) {
    MS_RETURN_IF_ERROR(readBin(o, kMaxSliceData, op.literal, "slice_delta.ops[]"));
    if (op.literal.empty()) return malformed("slice_delta.ops[]: an empty literal");
    return Status::ok();
  }
  Elements f;
  MS_RETURN_IF_ERROR(readArrayExact(o, 2, f, "slice_delta.ops[]"));
  op.copy = true;
  MS_RETURN_IF_ERROR(readUint(f[0], kMaxSliceData, op.offset, "slice_delta.ops[].offset"));
  MS_RETURN_IF_ERROR(readUint(f[1], kMaxSliceData, op.length, "slice_delta.ops[].length"));
  if (op.length == 0) return malformed("slice_delta.ops[]: an empty copy");
  return Status::ok();
}

Result<DeltaMessage> decodeSliceDelta(Elements e, DeltaDigest kind) {
  if (e.size() != kSliceDeltaArity)
    return malformed("slice_delta: " + std::to_string(e.size()) + " elements, expected 11");
  SliceDelta d;
  d.digest_kind = kind;
  DeviceId::Raw raw;
  MS_RETURN_IF_ERROR(readStr(e[1], kMaxStoreIdLength, d.store_id, "slice_delta.store"));
  MS_RETURN_IF_ERROR(readBinExact(e[2], raw, "slice_delta.device"));
  d.device_id = DeviceId(raw);
  MS_RETURN_IF_ERROR(readUint(e[3], UINT64_MAX, d.base_version, "slice_delta.base_version"));
  MS_RETURN_IF_ERROR(readUint(e[4], UINT64_MAX, d.base_incarnation, "slice_delta.base_incarnation"));
  MS_RETURN_IF_ERROR(readUint(e[5], UINT64_MAX, d.version, "slice_delta.version"));
  MS_RETURN_IF_ERROR(readInt(e[6], d.updated_at, "slice_delta.updated_at"));
  MS_RETURN_IF_ERROR(readUint(e[7], UINT64_MAX, d.incarnation, "slice_delta.incarnation"));
  // Any size decodes: one above the slice limit is refused (kMalformed) by applySliceDelta, so
  // the sender learns of it and sends the full slice.
  MS_RETURN_IF_ERROR(readUint(e[8], UINT64_MAX, d.size, "slice_delta.size"));
  MS_RETURN_IF_ERROR(readBinExact(e[9], d.digest, "slice_delta.digest"));
  Elements ops;
  MS_RETURN_IF_ERROR(readArray(e[10], 0, kMaxDeltaOps, ops, "slice_delta.ops"));
  d.ops.resize(ops.size());
  for (size_t i = 0; i < ops.size(); ++i) MS_RETURN_IF_ERROR(readOp(ops[i], d.ops[i]));
  Status st = validate(d);
  if (!st.isOk()) return st.code() == Code::kTooLarge ? st : malformed(st.message());
  return DeltaMessage(std::move(d));
}

Result<DeltaMessage> decodeDeltaRefused(Elements e) {
  if (e.size() != kDeltaRefusedArity)
    return malformed("delta_refused: " + std::to_string(e.size()) + " elements, expected 4");
  DeltaRefused r;
  uint64_t reason = 0;
  MS_RETURN_IF_ERROR(readStr(e[1], kMaxStoreIdLength, r.store_id, "delta_refused.store"));
  MS_RETURN_IF_ERROR(readUint(e[2], UINT64_MAX, r.version, "delta_refused.version"));
  MS_RETURN_IF_ERROR(readUint(e[3], kMaxDeltaRefusal, reason, "delta_refused.reason"));
  if (reason == 0) return malformed("delta_refused.reason: 0");
  r.reason = static_cast<DeltaRefusal>(reason);
  Status st = validate(r);
  if (!st.isOk()) return malformed(st.message());
  return DeltaMessage(std::move(r));
}

// msgpack unsigned integer at `p` (any form); advances `p`. nullopt if not one.
std::optional<uint64_t> readUintAt(ByteView b, size_t& p) {
  if (p >= b.size()) return std::nullopt;
  const uint8_t tag = b[p++];
  if (tag <= 0x7f) return tag;
  size_t width = tag == 0xcc ? 1 : tag == 0xcd ? 2 : tag == 0xce ? 4 : tag == 0xcf ? 8 : 0;
  if (width == 0 || b.size() - p < width) return std::nullopt;
  uint64_t v = 0;
  for (size_t i = 0; i < width; ++i) v = (v << 8) | b[p++];
  return v;
}

}  // namespace

SliceDigest sliceDigest(ByteView data) {
  SliceDigest out;
  crypto_generichash(out.data(), out.size(), data.data(), data.size(), nullptr, 0);
  return out;
}

const char* deltaRefusalName(DeltaRefusal reason) {
  switch (reason) {
    case DeltaRefusal::kUnknownBase: return "unknown base";
    case DeltaRefusal::kDigestMismatch: return "digest mismatch";
    case DeltaRefusal::kMalformed: return "malformed";
  }
  return "?";
}

std::optional<uint64_t> peekSyncMessageType(ByteView bytes) {
  if (bytes.empty()) return std::nullopt;
  size_t p = 1;
  const uint8_t tag = bytes[0];
  if (tag >= 0x90 && tag <= 0x9f) {
    if (tag == 0x90) return std::nullopt;
  } else if (tag == 0xdc || tag == 0xdd) {
    p += tag == 0xdc ? 2 : 4;
  } else {
    return std::nullopt;
  }
  return readUintAt(bytes, p);
}

Status validateDeltaMessage(const DeltaMessage& message) {
  return std::visit([](const auto& m) { return validate(m); }, message);
}

Bytes encodeDeltaMessage(const DeltaMessage& message) {
  assert(validateDeltaMessage(message).isOk() && "encodeDeltaMessage needs a valid message");
  Bytes out;
  if (const auto* d = std::get_if<SliceDelta>(&message)) out.reserve(96 + encodedOpsSize(d->ops));
  MsgpackWriter writer(out);
  std::visit([&writer](const auto& m) { encodeBody(writer, m); }, message);
  return out;
}

Result<DeltaMessage> decodeDeltaMessage(ByteView bytes) {
  if (bytes.size() > kMaxPayloadSize) return tooLarge("delta message over the payload limit");
  Result<msgpack::object_handle> handle = unpackBounded(bytes, kMaxSliceData);
  if (!handle.isOk()) return handle.status();
  Elements e;
  MS_RETURN_IF_ERROR(readArray(handle->get(), 1, kMsgpackMaxContainer, e, "delta message"));
  uint64_t type = 0;
  MS_RETURN_IF_ERROR(readUint(e[0], UINT64_MAX, type, "delta message.type"));
  if (type == uint64_t(DeltaMessageType::kSliceDelta)) return decodeSliceDelta(e, DeltaDigest::kValue);
  if (type == uint64_t(DeltaMessageType::kSliceDeltaTree)) return decodeSliceDelta(e, DeltaDigest::kTree);
  if (type == uint64_t(DeltaMessageType::kDeltaRefused)) return decodeDeltaRefused(e);
  return malformed("delta message: type " + std::to_string(type));
}

Result<Bytes> applySliceDelta(ByteView base, const SliceDelta& delta, DeltaRefusal* why, const SliceTree* base_tree,
                              SliceTree* result_tree) {
  auto refuse = [why](DeltaRefusal reason, Status st) {
    if (why) *why = reason;
    return st;
  };
  if (delta.size > kMaxSliceData) return refuse(DeltaRefusal::kMalformed, malformed("delta result over the slice limit"));
  Bytes out;
  out.reserve(delta.size);
  for (const DeltaOp& op : delta.ops) {
    const uint64_t length = op.copy ? op.length : op.literal.size();
    if (length == 0 || length > delta.size - out.size())
      return refuse(DeltaRefusal::kMalformed, malformed("delta op runs past the declared size"));
    if (!op.copy) {
      out.insert(out.end(), op.literal.begin(), op.literal.end());
      continue;
    }
    if (op.offset > base.size() || op.length > base.size() - op.offset)
      return refuse(DeltaRefusal::kMalformed,
                    malformed("delta copy " + std::to_string(op.offset) + "+" + std::to_string(op.length) +
                              " outside the " + std::to_string(base.size()) + "-byte base"));
    out.insert(out.end(), base.begin() + static_cast<ptrdiff_t>(op.offset),
               base.begin() + static_cast<ptrdiff_t>(op.offset + op.length));
  }
  if (out.size() != delta.size) return refuse(DeltaRefusal::kMalformed, malformed("delta result shorter than declared"));
  if (delta.digest_kind == DeltaDigest::kValue) {
    if (sliceDigest(out) != delta.digest)
      return refuse(DeltaRefusal::kDigestMismatch, Status(Code::kAuthFailed, "delta result digest mismatch"));
    return out;
  }
  SliceTree computed;
  if (!base_tree) computed = sliceTree(base), base_tree = &computed;
  SliceTree tree = sliceTreeAfter(*base_tree, out, delta.ops);
  if (tree.root != delta.digest)
    return refuse(DeltaRefusal::kDigestMismatch, Status(Code::kAuthFailed, "delta result tree root mismatch"));
  if (result_tree) *result_tree = std::move(tree);
  return out;
}

}  // namespace meshslice
