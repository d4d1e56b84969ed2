// Store contracts (docs/STORES.md section 6; wire form docs/PROTOCOL.md §7.7): what a store's
// slice data means, so that two builds that disagree about it refuse each other's slices
// before any of them reaches the store, instead of failing to decode them one by one.
//
// A contract is a codec ("msgpack", "json"; empty: opaque bytes) and a schema (a name and a
// version, or a fingerprint "shape:<hex>" derived from the type; empty: undeclared). Two
// contracts are compatible when each part is either undeclared on one side or equal on both:
// a store that declares nothing (RawStore without a configured contract, a store of a build
// without contracts) takes anything, as before contracts existed.
//
// Peers that list capability "contract" send, on every new link and for every store added
// later, one StoreContracts message before any digest or slice of the stores it names:
//   4 StoreContracts [4, entries:[[store:str, codec:str, schema:str, version:uint32]...]]
// Pure code, thread-safe, no state.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "mesh/protocol_constants.h"

namespace meshslice {

inline constexpr uint8_t kStoreContractsType = 4;
inline constexpr size_t kMaxContractCodecLength = 16;
inline constexpr size_t kMaxContractSchemaLength = 64;
// Entries of one StoreContracts message; more stores take several messages.
inline constexpr size_t kMaxContractEntries = 1024;

struct StoreContract {
  std::string codec;   // <= kMaxContractCodecLength bytes; empty: opaque bytes
  std::string schema;  // <= kMaxContractSchemaLength bytes; empty: undeclared
  uint32_t version = 0;  // of the schema (0 with an empty schema)
  bool declared() const { return !codec.empty() || !schema.empty(); }
  friend bool operator==(const StoreContract&, const StoreContract&) = default;
};

// kInvalidArgument / kTooLarge: a part over its limit, a control character, a version
// without a schema.
Status validateStoreContract(const StoreContract& contract);
// The rule above: each part undeclared on one side or equal.
bool contractsCompatible(const StoreContract& a, const StoreContract& b);
// "json:todo@2", "msgpack:shape:1f2e...@0", "-" for an undeclared contract (logs, CLI, JSON).
std::string contractString(const StoreContract& contract);

struct ContractEntry {
  std::string store_id;
  StoreContract contract;
  friend bool operator==(const ContractEntry&, const ContractEntry&) = default;
};

struct StoreContracts {
  std::vector<ContractEntry> entries;  // 1..kMaxContractEntries
  friend bool operator==(const StoreContracts&, const StoreContracts&) = default;
};

Status validateStoreContracts(const StoreContracts& message);
// Splits entries into messages of at most `max_entries`.
std::vector<StoreContracts> splitContracts(std::vector<ContractEntry> entries,
                                           size_t max_entries = kMaxContractEntries);
// Canonical msgpack; the message must pass validateStoreContracts() (asserted).
Bytes encodeStoreContracts(const StoreContracts& message);
// Strict, bounded decoding of untrusted bytes: kMalformed / kTooLarge. Never throws.
Result<StoreContracts> decodeStoreContracts(ByteView bytes);
bool isContractMessage(ByteView bytes);

}  // namespace meshslice
