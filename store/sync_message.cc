#include "store/sync_message.h"

#include <algorithm>
#include <cassert>
#include <iterator>
#include <span>
#include <type_traits>

#include "base/msgpack_limits.h"
#include "base/msgpack_writer.h"
#include "mesh/protocol_constants.h"

namespace meshslice {

namespace {

using Elements = std::span<const msgpack::object>;

// Worst-case encodings, so every valid message fits a bus payload.
constexpr size_t kMaxStoreIdEncoded = 2 + kMaxStoreIdLength;  // str8
constexpr size_t kMaxDeviceEncoded = 2 + kDeviceIdSize;       // bin8
constexpr size_t kMaxSliceUpdateEncoded =
    1 + 1 + kMaxStoreIdEncoded + kMaxDeviceEncoded + 9 + 9 + 5 + kMaxSliceData + 9;
constexpr size_t kMaxDigestEncoded =
    1 + 1 + 5 + kMaxSyncEntries * (1 + kMaxStoreIdEncoded + kMaxDeviceEncoded + 9 + 9);
static_assert(kMaxSliceUpdateEncoded <= kMaxPayloadSize);
static_assert(kMaxDigestEncoded <= kMaxPayloadSize);

Status withField(const Status& st, const std::string& field) {
  if (st.isOk()) return st;
  return Status(st.code(), field + ": " + st.message());
}

Status asMalformed(Status st) {
  if (st.isOk() || st.code() == Code::kTooLarge) return st;
  return malformed(st.message());
}

Status validate(const SliceUpdate& u) {
  MS_RETURN_IF_ERROR(withField(validateStoreId(u.store_id), "slice_update.store"));
  if (u.slice.data.size() > kMaxSliceData) {
    return tooLarge("slice_update.data: " + std::to_string(u.slice.data.size()) +
                    " bytes exceeds " + std::to_string(kMaxSliceData));
  }
  return Status::ok();
}

Status validate(const SliceRequest& r) {
  if (r.store_ids.size() > kMaxSyncEntries) {
    return tooLarge("slice_request.stores: more than " + std::to_string(kMaxSyncEntries));
  }
  for (const std::string& id : r.store_ids) {
    MS_RETURN_IF_ERROR(withField(validateStoreId(id), "slice_request.stores"));
  }
  return Status::ok();
}

Status validate(const Digest& d) {
  if (d.entries.size() > kMaxSyncEntries) {
    return tooLarge("digest.entries: more than " + std::to_string(kMaxSyncEntries));
  }
  for (const DigestEntry& e : d.entries) {
    MS_RETURN_IF_ERROR(withField(validateStoreId(e.store_id), "digest.entries.store"));
  }
  return Status::ok();
}

// `v2`: the form with incarnations (protocol version >= kIncarnationProtocolVersion).
void encodeSliceUpdateBody(MsgpackWriter& w, std::string_view store_id, const DeviceSlice& slice,
                           uint64_t incarnation, bool v2) {
  auto& p = w.packer();
  p.pack_array(v2 ? 7 : 6);
  p.pack_uint64(static_cast<uint64_t>(SyncMessageType::kSliceUpdate));
  w.packStr(store_id);
  w.packBin(slice.device_id.view());
  p.pack_uint64(slice.version);
  p.pack_int64(slice.updated_at);
  w.packBin(slice.data);
  if (v2) p.pack_uint64(incarnation);
}

void encodeBody(MsgpackWriter& w, const SliceUpdate& u, bool v2) {
  encodeSliceUpdateBody(w, u.store_id, u.slice, u.incarnation, v2);
}

void encodeBody(MsgpackWriter& w, const SliceRequest& r, bool) {
  w.packer().pack_array(2);
  w.packer().pack_uint64(static_cast<uint64_t>(SyncMessageType::kSliceRequest));
  w.packer().pack_array(static_cast<uint32_t>(r.store_ids.size()));
  for (const std::string& id : r.store_ids) w.packStr(id);
}

void encodeBody(MsgpackWriter& w, const Digest& d, bool v2) {
  auto& p = w.packer();
  p.pack_array(2);
  p.pack_uint64(static_cast<uint64_t>(SyncMessageType::kDigest));
  p.pack_array(static_cast<uint32_t>(d.entries.size()));
  for (const DigestEntry& e : d.entries) {
    p.pack_array(v2 ? 4 : 3);
    w.packStr(e.store_id);
    w.packBin(e.device_id.view());
    p.pack_uint64(e.version);
    if (v2) p.pack_uint64(e.incarnation);
  }
}

Status readDevice(const msgpack::object& o, DeviceId& out, const char* field) {
  DeviceId::Raw raw;
  MS_RETURN_IF_ERROR(readBinExact(o, raw, field));
  out = DeviceId(raw);
  return Status::ok();
}

Result<SyncMessage> decodeSliceUpdate(Elements e) {
  SliceUpdate u;
  MS_RETURN_IF_ERROR(readStr(e[1], kMaxStoreIdLength, u.store_id, "slice_update.store"));
  MS_RETURN_IF_ERROR(readDevice(e[2], u.slice.device_id, "slice_update.device"));
  MS_RETURN_IF_ERROR(readUint(e[3], UINT64_MAX, u.slice.version, "slice_update.version"));
  MS_RETURN_IF_ERROR(readInt(e[4], u.slice.updated_at, "slice_update.updated_at"));
  MS_RETURN_IF_ERROR(readBin(e[5], kMaxSliceData, u.slice.data, "slice_update.data"));
  if (e.size() == 7) MS_RETURN_IF_ERROR(readUint(e[6], UINT64_MAX, u.incarnation, "slice_update.incarnation"));
  MS_RETURN_IF_ERROR(asMalformed(validate(u)));
  return SyncMessage(std::move(u));
}

Result<SyncMessage> decodeSliceRequest(Elements e) {
  SliceRequest r;
  Elements stores;
  MS_RETURN_IF_ERROR(readArray(e[1], 0, kMaxSyncEntries, stores, "slice_request.stores"));
  r.store_ids.resize(stores.size());
  for (size_t i = 0; i < stores.size(); ++i) {
    MS_RETURN_IF_ERROR(
        readStr(stores[i], kMaxStoreIdLength, r.store_ids[i], "slice_request.stores"));
  }
  MS_RETURN_IF_ERROR(asMalformed(validate(r)));
  return SyncMessage(std::move(r));
}

Result<SyncMessage> decodeDigest(Elements e) {
  Digest d;
  Elements entries;
  MS_RETURN_IF_ERROR(readArray(e[1], 0, kMaxSyncEntries, entries, "digest.entries"));
  d.entries.resize(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    Elements f;
    DigestEntry& entry = d.entries[i];
    // 3 elements (protocol 1) or 4 (with the incarnation); any other arity is malformed.
    MS_RETURN_IF_ERROR(readArray(entries[i], 0, kMsgpackMaxContainer, f, "digest.entries[]"));
    if (f.size() != 3 && f.size() != 4)
      return malformed("digest.entries[]: " + std::to_string(f.size()) + " elements, expected 3 or 4");
    MS_RETURN_IF_ERROR(readStr(f[0], kMaxStoreIdLength, entry.store_id, "digest.entries.store"));
    MS_RETURN_IF_ERROR(readDevice(f[1], entry.device_id, "digest.entries.device"));
    MS_RETURN_IF_ERROR(readUint(f[2], UINT64_MAX, entry.version, "digest.entries.version"));
    if (f.size() == 4) MS_RETURN_IF_ERROR(readUint(f[3], UINT64_MAX, entry.incarnation, "digest.entries.incarnation"));
  }
  MS_RETURN_IF_ERROR(asMalformed(validate(d)));
  return SyncMessage(std::move(d));
}

struct SyncSpec {
  size_t min_arity, max_arity;  // a SliceUpdate has 6 elements in protocol 1, 7 from 2 on
  Result<SyncMessage> (*decode)(Elements);
  const char* name;
};

constexpr SyncSpec kSpecs[] = {
    {0, 0, nullptr, nullptr},
    {6, 7, decodeSliceUpdate, "slice_update"},
    {2, 2, decodeSliceRequest, "slice_request"},
    {2, 2, decodeDigest, "digest"},
};

}  // namespace

SyncMessageType syncMessageType(const SyncMessage& message) {
  static_assert(std::is_same_v<std::variant_alternative_t<0, SyncMessage>, SliceUpdate>);
  static_assert(std::is_same_v<std::variant_alternative_t<2, SyncMessage>, Digest>);
  return static_cast<SyncMessageType>(message.index() + 1);
}

Status validateSyncMessage(const SyncMessage& message) {
  return std::visit([](const auto& m) { return validate(m); }, message);
}

Bytes encodeSyncMessage(const SyncMessage& message, uint32_t protocol_version) {
  assert(validateSyncMessage(message).isOk() && "encodeSyncMessage needs a valid message");
  Bytes out;
  if (const auto* u = std::get_if<SliceUpdate>(&message)) out.reserve(u->slice.data.size() + 2 * kMaxStoreIdEncoded);
  MsgpackWriter writer(out);
  const bool v2 = protocol_version >= kIncarnationProtocolVersion;
  std::visit([&writer, v2](const auto& m) { encodeBody(writer, m, v2); }, message);
  return out;
}

Bytes encodeSliceUpdate(std::string_view store_id, const DeviceSlice& slice, uint64_t incarnation,
                        uint32_t protocol_version) {
  assert(validateStoreId(store_id).isOk() && slice.data.size() <= kMaxSliceData);
  Bytes out;
  out.reserve(slice.data.size() + 2 * kMaxStoreIdEncoded);  // one allocation, however large
  MsgpackWriter writer(out);
  encodeSliceUpdateBody(writer, store_id, slice, incarnation, protocol_version >= kIncarnationProtocolVersion);
  return out;
}

std::vector<Digest> splitDigest(std::vector<DigestEntry> entries, size_t max_entries) {
  assert(max_entries > 0);
  std::vector<Digest> out;
  for (size_t i = 0; i < entries.size(); i += max_entries) {
    Digest d;
    const size_t end = std::min(entries.size(), i + max_entries);
    d.entries.assign(std::make_move_iterator(entries.begin() + static_cast<ptrdiff_t>(i)),
                     std::make_move_iterator(entries.begin() + static_cast<ptrdiff_t>(end)));
    out.push_back(std::move(d));
  }
  return out;
}

Result<SyncMessage> decodeSyncMessage(ByteView bytes) {
  if (bytes.size() > kMaxPayloadSize) {
    return tooLarge("sync message of " + std::to_string(bytes.size()) + " bytes exceeds " +
                    std::to_string(kMaxPayloadSize));
  }
  Result<msgpack::object_handle> handle = unpackBounded(bytes, kMaxSliceData);
  if (!handle.isOk()) return handle.status();
  Elements elements;
  MS_RETURN_IF_ERROR(readArray(handle->get(), 1, kMsgpackMaxContainer, elements, "sync message"));
  uint64_t type;
  MS_RETURN_IF_ERROR(readUint(elements[0], UINT64_MAX, type, "sync message.type"));
  if (type == 0 || type >= std::size(kSpecs)) {
    return malformed("sync message: unknown type " + std::to_string(type));
  }
  const SyncSpec& spec = kSpecs[type];
  if (elements.size() < spec.min_arity || elements.size() > spec.max_arity) {
    return malformed(std::string("sync message: ") + spec.name + " has " +
                     std::to_string(elements.size()) + " elements, expected " +
                     std::to_string(spec.min_arity) +
                     (spec.max_arity == spec.min_arity ? "" : " or " + std::to_string(spec.max_arity)));
  }
  return spec.decode(elements);
}

}  // namespace meshslice
