// Fuzzes decodeSyncMessage and decodeStoreContracts with untrusted bytes. Any message that decodes must be valid and
// survive encode -> decode unchanged. Seeds: fuzz/corpus/sync_message/ (the golden vectors).
#include <cstddef>
#include <cstdint>

#include "mesh/protocol_constants.h"
#include "store/store_contract.h"
#include "store/sync_message.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace meshslice;
  if (Result<StoreContracts> contracts = decodeStoreContracts(ByteView(data, size)); contracts.isOk()) {
    if (!validateStoreContracts(*contracts).isOk()) __builtin_trap();
    Bytes wire = encodeStoreContracts(*contracts);
    Result<StoreContracts> again = decodeStoreContracts(wire);
    if (!again.isOk() || !(*again == *contracts) || encodeStoreContracts(*again) != wire) __builtin_trap();
  }
  Result<SyncMessage> decoded = decodeSyncMessage(ByteView(data, size));
  if (!decoded.isOk()) return 0;
  if (!validateSyncMessage(*decoded).isOk()) __builtin_trap();
  Bytes wire = encodeSyncMessage(*decoded);
  if (wire.size() > kMaxPayloadSize) __builtin_trap();
  Result<SyncMessage> again = decodeSyncMessage(wire);
  if (!again.isOk() || !(*again == *decoded)) __builtin_trap();
  if (encodeSyncMessage(*again) != wire) __builtin_trap();
  return 0;
}
