// FilePersistence: the local slice in one file, replaced atomically, so that a crash at any
// moment (kill -9, power loss after fsync) leaves the old slice or the new one, never a torn
// one. docs/STORES.md describes the format.
//
// save(): write "<path>.tmp" (created 0600, O_EXCL after removing a leftover), fsync it,
// rename it over <path>, fsync the directory. load() checks magic, format version, length,
// the BLAKE2b-256 checksum and the store ID: a torn or corrupted file is an error, never
// silently accepted (the store then refuses to start; the user moves the file away to start
// fresh). Not thread-safe: the owning store serialises calls. Blocking I/O.
#pragma once

#include <string>
#include <string_view>

#include "base/bytes.h"
#include "store/slice_persistence.h"

namespace meshslice {

// File layout: magic "MSSLICE" + format byte, u32 BE body length, msgpack body
// [store:str, device:bin(20), version:uint64, updated_at:int64, data:bin], BLAKE2b-256 of
// everything before it.
inline constexpr std::string_view kSliceFileMagic = "MSSLICE";
inline constexpr uint8_t kSliceFileFormat = 1;
inline constexpr size_t kSliceFileHeaderSize = 12;
inline constexpr size_t kSliceFileChecksumSize = 32;
// Largest file load() reads: a maximal slice plus framing.
size_t maxSliceFileSize();

// The file's bytes for `slice` of store `store_id` (a valid store ID, asserted).
Bytes encodeSliceFile(std::string_view store_id, const DeviceSlice& slice);
// Parses untrusted file bytes. kMalformed (torn, corrupt, wrong magic), kIncompatible (a
// newer format), kTooLarge, or kInvalidArgument when the file belongs to another store.
// Never throws.
Result<DeviceSlice> decodeSliceFile(ByteView file, std::string_view expected_store_id);

class FilePersistence final : public SlicePersistence {
 public:
  // `path`'s directory must exist. `store_id` is checked against the file on load.
  FilePersistence(std::string path, std::string store_id);

  Result<std::optional<DeviceSlice>> load() override;
  Status save(const DeviceSlice& slice) override;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::string store_id_;
};

}  // namespace meshslice
