// libFuzzer target for the store layer's own decoders of untrusted bytes: a slice file read
// from disk (decodeSliceFile) and remote slice data decoded as a user type
// (SyncedStore<T>::applyRemoteSlice). Neither may crash; what decodes must round-trip.
// Seeds: fuzz/corpus/slice_data/.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "store/file_persistence.h"
#include "store/synced_store.h"

using namespace meshslice;

namespace {
struct Sample {
  int64_t n = 0;
  std::string s;
  std::vector<uint32_t> v;
  std::map<std::string, double> m;
  MSGPACK_DEFINE(n, s, v, m);
};

DeviceId fixedDevice(uint8_t seed) {
  DeviceId::Raw raw;
  raw.fill(seed);
  return DeviceId(raw);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteView bytes(data, size);
  if (auto slice = decodeSliceFile(bytes, "fuzz")) {
    auto again = decodeSliceFile(encodeSliceFile("fuzz", slice.value()), "fuzz");
    if (!again || !(again.value() == slice.value())) __builtin_trap();
  }
  static SyncedStore<Sample>* store = new SyncedStore<Sample>("fuzz", fixedDevice(1));
  DeviceSlice remote{fixedDevice(2), 0, 0, Bytes(data, data + size)};
  static uint64_t version = 0;
  remote.version = ++version;
  if (store->applyRemoteSlice(remote) == ApplyResult::kApplied) {
    auto value = store->get(remote.device_id);
    if (!value) __builtin_trap();
    auto encoded = MsgpackCodec<Sample>::encode(*value);
    if (!encoded || !MsgpackCodec<Sample>::decode(encoded.value())) __builtin_trap();
  }
  return 0;
}
