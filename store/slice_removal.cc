#include "store/slice_removal.h"

#include <cassert>
#include <span>

#include "base/msgpack_limits.h"
#include "base/msgpack_writer.h"
#include "mesh/protocol_constants.h"
#include "store/slice_delta.h"

namespace meshslice {
namespace {
constexpr size_t kSliceRemovedArity = 4;
// A SliceRemoved is tiny: anything longer is not one.
constexpr size_t kMaxSliceRemovedEncoded = 1 + 1 + 2 + kMaxStoreIdLength + 2 + kDeviceIdSize + 9;
}  // namespace

bool isLifecycleMessage(ByteView bytes) {
  auto type = peekSyncMessageType(bytes);
  return type == uint64_t(LifecycleMessageType::kSliceRemoved);
}

Bytes encodeSliceRemoved(const SliceRemoved& m) {
  assert(validateStoreId(m.store_id).isOk() && "encodeSliceRemoved needs a valid store ID");
  Bytes out;
  MsgpackWriter w(out);
  w.packer().pack_array(kSliceRemovedArity);
  w.packer().pack_uint64(uint64_t(LifecycleMessageType::kSliceRemoved));
  w.packStr(m.store_id);
  w.packBin(m.device_id.view());
  w.packer().pack_uint64(m.version);
  return out;
}

Result<SliceRemoved> decodeSliceRemoved(ByteView bytes) {
  if (bytes.size() > kMaxSliceRemovedEncoded) return malformed("slice_removed: longer than any valid one");
  Result<msgpack::object_handle> handle = unpackBounded(bytes, kDeviceIdSize);
  if (!handle.isOk()) return handle.status();
  std::span<const msgpack::object> e;
  MS_RETURN_IF_ERROR(readArrayExact(handle->get(), kSliceRemovedArity, e, "slice_removed"));
  uint64_t type = 0;
  MS_RETURN_IF_ERROR(readUint(e[0], UINT64_MAX, type, "slice_removed.type"));
  if (type != uint64_t(LifecycleMessageType::kSliceRemoved)) return malformed("slice_removed: type " + std::to_string(type));
  SliceRemoved m;
  MS_RETURN_IF_ERROR(readStr(e[1], kMaxStoreIdLength, m.store_id, "slice_removed.store"));
  DeviceId::Raw raw;
  MS_RETURN_IF_ERROR(readBinExact(e[2], raw, "slice_removed.device"));
  m.device_id = DeviceId(raw);
  MS_RETURN_IF_ERROR(readUint(e[3], UINT64_MAX, m.version, "slice_removed.version"));
  if (Status st = validateStoreId(m.store_id); !st.isOk()) return malformed("slice_removed.store: " + st.message());
  return m;
}

}  // namespace meshslice
