#include "store/sync_message.h"

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
    1 + 1 + kMaxStoreIdEncoded + kMaxDeviceEncoded + 9 + 9 + 5 + kMaxSliceData;
constexpr size_t kMaxDigestEncoded =
    1 + 1 + 5 + kMaxSyncEntries * (1 + kMaxStoreIdEncoded + kMaxDeviceEncoded + 9);
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

void encodeBody(MsgpackWriter& w, const SliceUpdate& u) {
  auto& p = w.packer();
  p.pack_array(6);
  p.pack_uint64(static_cast<uint64_t>(SyncMessageType::kSliceUpdate));
  w.packStr(u.store_id);
  w.packBin(u.slice.device_id.view());
  p.pack_uint64(u.slice.version);
  p.pack_int64(u.slice.updated_at);
  w.packBin(u.slice.data);
}

void encodeBody(MsgpackWriter& w, const SliceRequest& r) {
  w.packer().pack_array(2);
  w.packer().pack_uint64(static_cast<uint64_t>(SyncMessageType::kSliceRequest));
  w.packer().pack_array(static_cast<uint32_t>(r.store_ids.size()));
  for (const std::string& id : r.store_ids) w.packStr(id);
}

void encodeBody(MsgpackWriter& w, const Digest& d) {
  auto& p = w.packer();
  p.pack_array(2);
  p.pack_uint64(static_cast<uint64_t>(SyncMessageType::kDigest));
  p.pack_array(static_cast<uint32_t>(d.entries.size()));
  for (const DigestEntry& e : d.entries) {
    p.pack_array(3);
    w.packStr(e.store_id);
    w.packBin(e.device_id.view());
    p.pack_uint64(e.version);
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
    MS_RETURN_IF_ERROR(readArrayExact(entries[i], 3, f, "digest.entries[]"));
    MS_RETURN_IF_ERROR(readStr(f[0], kMaxStoreIdLength, entry.store_id, "digest.entries.store"));
    MS_RETURN_IF_ERROR(readDevice(f[1], entry.device_id, "digest.entries.device"));
    MS_RETURN_IF_ERROR(readUint(f[2], UINT64_MAX, entry.version, "digest.entries.version"));
  }
  MS_RETURN_IF_ERROR(asMalformed(validate(d)));
  return SyncMessage(std::move(d));
}

struct SyncSpec {
  size_t arity;
  Result<SyncMessage> (*decode)(Elements);
  const char* name;
};

constexpr SyncSpec kSpecs[] = {
    {0, nullptr, nullptr},
    {6, decodeSliceUpdate, "slice_update"},
    {2, decodeSliceRequest, "slice_request"},
    {2, decodeDigest, "digest"},
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

Bytes encodeSyncMessage(const SyncMessage& message) {
  assert(validateSyncMessage(message).isOk() && "encodeSyncMessage needs a valid message");
  Bytes out;
  MsgpackWriter writer(out);
  std::visit([&writer](const auto& m) { encodeBody(writer, m); }, message);
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
  if (elements.size() != spec.arity) {
    return malformed(std::string("sync message: ") + spec.name + " has " +
                     std::to_string(elements.size()) + " elements, expected " +
                     std::to_string(spec.arity));
  }
  return spec.decode(elements);
}

}  // namespace meshslice
