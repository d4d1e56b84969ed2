// Small POSIX file helpers shared by everything that keeps state on disk (key files, slice
// files): durable writes for the write-temp, fsync, rename pattern. Blocking I/O; errors are
// kIo Statuses naming the path and the errno text.
#pragma once

#include <string>

#include "base/bytes.h"
#include "base/status.h"

namespace meshslice {

std::string errnoText(int err);
// The directory part of `path` ("." when there is none).
std::string dirOf(const std::string& path);
// Writes all of `data` to `fd`, retrying on EINTR and short writes.
Status writeAll(int fd, ByteView data, const std::string& path);
// fsync of a directory, so a rename or link inside it is durable.
Status fsyncDir(const std::string& dir);
// Creates `tmp` exclusively (mode exactly 0600, never following a symlink), writes `contents`
// and fsyncs it. On any error no file is left behind. The caller then renames or links it.
Status writeDurableFile(const std::string& tmp, ByteView contents);

}  // namespace meshslice
