#include "store/store_contract.h"

#include <cassert>
#include <span>

#include "base/msgpack_limits.h"
#include "base/msgpack_writer.h"
#include "store/slice_delta.h"

namespace meshslice {

namespace {

using Elements = std::span<const msgpack::object>;

constexpr size_t kEntryArity = 4;
// [4, [entries]] with every entry at its longest: array header, str8 store, str8 codec, str8
// schema, uint32 version.
constexpr size_t kMaxEntryEncoded = 1 + (2 + kMaxStoreIdLength) + (2 + kMaxContractCodecLength) +
                                    (2 + kMaxContractSchemaLength) + 5;
static_assert(1 + 1 + 3 + kMaxContractEntries * kMaxEntryEncoded <= kMaxPayloadSize,
              "every valid StoreContracts message fits one bus payload");

Status validatePart(const std::string& part, size_t max, const char* field) {
  if (part.size() > max) return tooLarge(std::string(field) + ": more than " + std::to_string(max) + " bytes");
  for (unsigned char c : part)
    if (c < 0x20 || c == 0x7f) return invalidArgument(std::string(field) + ": a control character");
  if (!isValidUtf8(part)) return invalidArgument(std::string(field) + ": not UTF-8");
  return Status::ok();
}

}  // namespace

Status validateStoreContract(const StoreContract& c) {
  MS_RETURN_IF_ERROR(validatePart(c.codec, kMaxContractCodecLength, "contract.codec"));
  MS_RETURN_IF_ERROR(validatePart(c.schema, kMaxContractSchemaLength, "contract.schema"));
  if (c.schema.empty() && c.version != 0) return invalidArgument("contract.version: set without a schema");
  return Status::ok();
}

bool contractsCompatible(const StoreContract& a, const StoreContract& b) {
  const bool codec = a.codec.empty() || b.codec.empty() || a.codec == b.codec;
  const bool schema = a.schema.empty() || b.schema.empty() || (a.schema == b.schema && a.version == b.version);
  return codec && schema;
}

std::string contractString(const StoreContract& c) {
  if (!c.declared()) return "-";
  std::string out = c.codec.empty() ? "bytes" : c.codec;
  if (!c.schema.empty()) out += ":" + c.schema + "@" + std::to_string(c.version);
  return out;
}

Status validateStoreContracts(const StoreContracts& m) {
  if (m.entries.empty()) return invalidArgument("store_contracts.entries: empty");
  if (m.entries.size() > kMaxContractEntries)
    return tooLarge("store_contracts.entries: more than " + std::to_string(kMaxContractEntries));
  for (const ContractEntry& e : m.entries) {
    MS_RETURN_IF_ERROR(validateStoreId(e.store_id));
    MS_RETURN_IF_ERROR(validateStoreContract(e.contract));
  }
  return Status::ok();
}

std::vector<StoreContracts> splitContracts(std::vector<ContractEntry> entries, size_t max_entries) {
  std::vector<StoreContracts> out;
  for (size_t i = 0; i < entries.size(); i += max_entries) {
    StoreContracts m;
    const size_t end = std::min(entries.size(), i + max_entries);
    for (size_t j = i; j < end; ++j) m.entries.push_back(std::move(entries[j]));
    out.push_back(std::move(m));
  }
  return out;
}

Bytes encodeStoreContracts(const StoreContracts& m) {
  assert(validateStoreContracts(m).isOk() && "encodeStoreContracts needs a valid message");
  Bytes out;
  MsgpackWriter w(out);
  auto& p = w.packer();
  p.pack_array(2);
  p.pack_uint64(kStoreContractsType);
  p.pack_array(static_cast<uint32_t>(m.entries.size()));
  for (const ContractEntry& e : m.entries) {
    p.pack_array(kEntryArity);
    w.packStr(e.store_id);
    w.packStr(e.contract.codec);
    w.packStr(e.contract.schema);
    p.pack_uint64(e.contract.version);
  }
  return out;
}

Result<StoreContracts> decodeStoreContracts(ByteView bytes) {
  auto handle = unpackBounded(bytes, 0);
  if (!handle) return handle.status();
  Elements top, entries;
  MS_RETURN_IF_ERROR(readArrayExact(handle->get(), 2, top, "store_contracts"));
  uint64_t type = 0;
  MS_RETURN_IF_ERROR(readUint(top[0], UINT64_MAX, type, "store_contracts.type"));
  if (type != kStoreContractsType) return malformed("store_contracts.type: " + std::to_string(type));
  MS_RETURN_IF_ERROR(readArray(top[1], 1, kMaxContractEntries, entries, "store_contracts.entries"));
  StoreContracts m;
  m.entries.resize(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    Elements f;
    ContractEntry& e = m.entries[i];
    uint64_t version = 0;
    MS_RETURN_IF_ERROR(readArrayExact(entries[i], kEntryArity, f, "store_contracts.entries[]"));
    MS_RETURN_IF_ERROR(readStr(f[0], kMaxStoreIdLength, e.store_id, "store_contracts.store"));
    MS_RETURN_IF_ERROR(readStr(f[1], kMaxContractCodecLength, e.contract.codec, "store_contracts.codec"));
    MS_RETURN_IF_ERROR(readStr(f[2], kMaxContractSchemaLength, e.contract.schema, "store_contracts.schema"));
    MS_RETURN_IF_ERROR(readUint(f[3], UINT32_MAX, version, "store_contracts.version"));
    e.contract.version = static_cast<uint32_t>(version);
  }
  Status st = validateStoreContracts(m);
  if (!st.isOk()) return st.code() == Code::kTooLarge ? st : malformed(st.message());
  return m;
}

bool isContractMessage(ByteView bytes) { return peekSyncMessageType(bytes) == uint64_t(kStoreContractsType); }

}  // namespace meshslice
