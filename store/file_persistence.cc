#include "store/file_persistence.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/file_util.h"
#include "base/msgpack_limits.h"
#include "base/msgpack_writer.h"
#include "mesh/protocol_constants.h"

namespace meshslice {

namespace {

constexpr size_t kBodyFields = 5;

void checksum(ByteView bytes, uint8_t* out) {
  crypto_generichash(out, kSliceFileChecksumSize, bytes.data(), bytes.size(), nullptr, 0);
}

Status decodeBody(ByteView body, std::string_view expected_store_id, DeviceSlice& out) {
  auto handle = unpackBounded(body, kMaxSliceData);
  if (!handle) return handle.status();
  std::span<const msgpack::object> f;
  MS_RETURN_IF_ERROR(readArrayExact(handle->get(), kBodyFields, f, "slice_file"));
  std::string store_id;
  MS_RETURN_IF_ERROR(readStr(f[0], kMaxStoreIdLength, store_id, "slice_file.store"));
  DeviceId::Raw raw;
  MS_RETURN_IF_ERROR(readBinExact(f[1], raw, "slice_file.device"));
  out.device_id = DeviceId(raw);
  MS_RETURN_IF_ERROR(readUint(f[2], UINT64_MAX, out.version, "slice_file.version"));
  MS_RETURN_IF_ERROR(readInt(f[3], out.updated_at, "slice_file.updated_at"));
  MS_RETURN_IF_ERROR(readBin(f[4], kMaxSliceData, out.data, "slice_file.data"));
  if (store_id != expected_store_id) {
    return invalidArgument("slice file belongs to store '" + store_id + "', not '" +
                           std::string(expected_store_id) + "'");
  }
  return Status::ok();
}

// A complete, durable temp file, or an error with no temp file left behind.
Status writeTemp(const std::string& tmp, ByteView contents) {
  if (::unlink(tmp.c_str()) != 0 && errno != ENOENT) {
    return ioError("remove stale " + tmp + ": " + errnoText(errno));
  }
  return writeDurableFile(tmp, contents);
}

Result<Bytes> readWhole(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT) return Status(Code::kNotFound, path + " does not exist");
    return ioError("open " + path + ": " + errnoText(errno));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
      static_cast<uint64_t>(st.st_size) > maxSliceFileSize()) {
    ::close(fd);
    return malformed("slice file " + path + " is not a regular file of a plausible size");
  }
  Bytes out(static_cast<size_t>(st.st_size) + 1);
  size_t got = 0;
  while (got < out.size()) {
    ssize_t n = ::read(fd, out.data() + got, out.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return ioError("read " + path + ": " + errnoText(err));
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  if (got > maxSliceFileSize()) return malformed("slice file " + path + " grew while reading");
  out.resize(got);
  return out;
}

}  // namespace

size_t maxSliceFileSize() {
  return kSliceFileHeaderSize + kMaxSliceData + 256 + kSliceFileChecksumSize;
}

Bytes encodeSliceFile(std::string_view store_id, const DeviceSlice& slice) {
  assert(validateStoreId(store_id).isOk());
  assert(slice.data.size() <= kMaxSliceData);
  Bytes out(kSliceFileHeaderSize);
  std::memcpy(out.data(), kSliceFileMagic.data(), kSliceFileMagic.size());
  out[kSliceFileMagic.size()] = kSliceFileFormat;
  {
    MsgpackWriter w(out);
    w.packer().pack_array(kBodyFields);
    w.packStr(store_id);
    w.packBin(slice.device_id.view());
    w.packer().pack_uint64(slice.version);
    w.packer().pack_int64(slice.updated_at);
    w.packBin(slice.data);
  }
  putU32(out.data() + 8, static_cast<uint32_t>(out.size() - kSliceFileHeaderSize));
  uint8_t sum[kSliceFileChecksumSize];
  checksum(out, sum);
  out.insert(out.end(), sum, sum + sizeof sum);
  return out;
}

Result<DeviceSlice> decodeSliceFile(ByteView file, std::string_view expected_store_id) {
  if (file.size() > maxSliceFileSize()) return tooLarge("slice file larger than any valid one");
  if (file.size() < kSliceFileHeaderSize + kSliceFileChecksumSize) {
    return malformed("slice file truncated (" + std::to_string(file.size()) + " bytes)");
  }
  if (std::memcmp(file.data(), kSliceFileMagic.data(), kSliceFileMagic.size()) != 0) {
    return malformed("not a slice file (bad magic)");
  }
  if (file[kSliceFileMagic.size()] != kSliceFileFormat) {
    return Status(Code::kIncompatible,
                  "slice file format " + std::to_string(file[kSliceFileMagic.size()]) +
                      " is not supported (this build reads format " +
                      std::to_string(kSliceFileFormat) + ")");
  }
  const size_t body_len = getU32(file.data() + 8);
  if (body_len != file.size() - kSliceFileHeaderSize - kSliceFileChecksumSize) {
    return malformed("slice file torn: length field says " + std::to_string(body_len) +
                     " body bytes, file has " +
                     std::to_string(file.size() - kSliceFileHeaderSize - kSliceFileChecksumSize));
  }
  uint8_t sum[kSliceFileChecksumSize];
  const size_t covered = kSliceFileHeaderSize + body_len;
  checksum(file.first(covered), sum);
  if (std::memcmp(sum, file.data() + covered, sizeof sum) != 0) {
    return malformed("slice file corrupt: checksum mismatch");
  }
  DeviceSlice slice;
  Status st = decodeBody(file.subspan(kSliceFileHeaderSize, body_len), expected_store_id, slice);
  if (!st.isOk()) {
    if (st.code() == Code::kInvalidArgument) return st;
    return malformed("slice file corrupt: " + st.message());
  }
  return slice;
}

FilePersistence::FilePersistence(std::string path, std::string store_id)
    : path_(std::move(path)), store_id_(std::move(store_id)) {
  assert(validateStoreId(store_id_).isOk());
}

Result<std::optional<DeviceSlice>> FilePersistence::load() {
  auto bytes = readWhole(path_);
  if (!bytes) {
    if (bytes.status().code() == Code::kNotFound) return std::optional<DeviceSlice>();
    return bytes.status();
  }
  auto slice = decodeSliceFile(bytes.value(), store_id_);
  if (!slice) return Status(slice.status().code(), path_ + ": " + slice.status().message());
  return std::optional<DeviceSlice>(std::move(slice).value());
}

Status FilePersistence::save(const DeviceSlice& slice) {
  const std::string tmp = path_ + ".tmp";
  MS_RETURN_IF_ERROR(writeTemp(tmp, encodeSliceFile(store_id_, slice)));
  if (::rename(tmp.c_str(), path_.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return ioError("rename " + tmp + " -> " + path_ + ": " + errnoText(err));
  }
  return fsyncDir(dirOf(path_));
}

}  // namespace meshslice
