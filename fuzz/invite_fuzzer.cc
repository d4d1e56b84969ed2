// Fuzzes the human-typed parsers: mesh invites and device IDs. Whatever parses must print
// back to a form that parses to the same value. Seeds: fuzz/corpus/invite/.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "mesh/device_id.h"
#include "mesh/mesh_secret.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace meshslice;
  std::string_view text(reinterpret_cast<const char*>(data), size);

  Result<MeshSecret> secret = MeshSecret::fromInvite(text);
  if (secret.isOk()) {
    for (InviteFormat f : {InviteFormat::kCompact, InviteFormat::kGrouped}) {
      Result<MeshSecret> again = MeshSecret::fromInvite(secret->toInvite(f));
      if (!again.isOk() || !(*again == *secret)) __builtin_trap();
    }
  }

  Result<DeviceId> id = DeviceId::parse(text);
  if (id.isOk()) {
    Result<DeviceId> again = DeviceId::parse(id->toString());
    if (!again.isOk() || *again != *id) __builtin_trap();
  }
  return 0;
}
