#include "mesh/key_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <sodium.h>

#include "base/bytes.h"
#include "base/file_util.h"

namespace meshslice {

namespace {

std::string octalMode(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

// Creates the temp file with its final contents, durable on disk. Returns its path.
Result<std::string> writeTempFile(const std::string& path, std::string_view contents) {
  uint8_t nonce[8];
  randombytes_buf(nonce, sizeof nonce);
  std::string tmp = path + ".tmp-" + toHex(nonce);
  MS_RETURN_IF_ERROR(writeDurableFile(tmp, asBytes(contents)));
  return tmp;
}

}  // namespace

Status ensurePrivateDir(const std::string& dir) {
  if (dir.empty()) return invalidArgument("state directory path is empty");
  for (size_t pos = 1; pos <= dir.size(); ++pos) {
    if (pos < dir.size() && dir[pos] != '/') continue;
    std::string prefix = dir.substr(0, pos);
    if (::mkdir(prefix.c_str(), 0700) == 0) continue;
    if (errno != EEXIST) return ioError("create directory " + prefix + ": " + errnoText(errno));
    struct stat st;
    if (::stat(prefix.c_str(), &st) != 0) {
      return ioError("stat " + prefix + ": " + errnoText(errno));
    }
    if (!S_ISDIR(st.st_mode)) return ioError(prefix + " exists but is not a directory");
  }
  return Status::ok();
}

Result<std::string> readPrivateFile(const std::string& path, std::string_view what) {
  std::string role(what);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT) return Status(Code::kNotFound, role + " " + path + " does not exist");
    if (errno == ELOOP) return malformed(role + " " + path + " is a symlink; refusing it");
    return ioError("open " + path + ": " + errnoText(errno));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return ioError("stat " + path + ": " + errnoText(err));
  }
  Status problem;
  if (!S_ISREG(st.st_mode)) {
    problem = malformed(role + " " + path + " is not a regular file");
  } else if ((st.st_mode & 077) != 0) {
    problem = Status(Code::kPermissionDenied,
                     role + " " + path + " is accessible by group or others (mode " +
                         octalMode(st.st_mode) + "); fix it with: chmod 600 " + path);
  } else if (static_cast<uint64_t>(st.st_size) > kMaxKeyFileSize) {
    problem = malformed(role + " " + path + " is corrupt: " + std::to_string(st.st_size) +
                        " bytes is larger than any valid key file");
  }
  if (!problem.isOk()) {
    ::close(fd);
    return problem;
  }
  std::string contents(kMaxKeyFileSize + 1, '\0');
  size_t got = 0;
  while (got < contents.size()) {
    ssize_t n = ::read(fd, contents.data() + got, contents.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      sodium_memzero(contents.data(), contents.size());
      return ioError("read " + path + ": " + errnoText(err));
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  if (got > kMaxKeyFileSize) {
    sodium_memzero(contents.data(), contents.size());
    return malformed(role + " " + path + " is corrupt: larger than any valid key file");
  }
  contents.resize(got);  // shrinking never reallocates, so no unwiped copy is left behind
  return contents;
}

Status writePrivateFile(const std::string& path, std::string_view contents, bool replace) {
  Result<std::string> tmp = writeTempFile(path, contents);
  if (!tmp.isOk()) return tmp.status();
  if (replace) {
    if (::rename(tmp->c_str(), path.c_str()) != 0) {
      int err = errno;
      ::unlink(tmp->c_str());
      return ioError("rename " + *tmp + " to " + path + ": " + errnoText(err));
    }
  } else {
    // link() fails if `path` exists, so a file created concurrently is never overwritten.
    int rc = ::link(tmp->c_str(), path.c_str());
    int err = errno;
    ::unlink(tmp->c_str());
    if (rc != 0 && err == EEXIST) {
      return Status(Code::kAlreadyExists, path + " already exists");
    }
    if (rc != 0) return ioError("link " + *tmp + " to " + path + ": " + errnoText(err));
  }
  return fsyncDir(dirOf(path));
}

Result<std::vector<std::pair<std::string_view, std::string_view>>> parseKeyFileLines(
    std::string_view contents, std::string_view header) {
  std::vector<std::pair<std::string_view, std::string_view>> entries;
  bool first = true;
  while (!contents.empty()) {
    size_t eol = contents.find('\n');
    std::string_view line = contents.substr(0, eol);
    contents = eol == std::string_view::npos ? std::string_view() : contents.substr(eol + 1);
    if (first) {
      if (line != header) return malformed("first line is not '" + std::string(header) + "'");
      first = false;
      continue;
    }
    if (line.empty()) continue;
    size_t space = line.find(' ');
    std::string_view key = line.substr(0, space);
    std::string_view value =
        space == std::string_view::npos ? std::string_view() : line.substr(space + 1);
    if (key.empty()) return malformed("a line starts with a space");
    for (const auto& [k, v] : entries) {
      if (k == key) return malformed("key '" + std::string(key) + "' appears twice");
    }
    entries.emplace_back(key, value);
  }
  if (first) return malformed("file is empty");
  return entries;
}

void appendSecretHex(std::string& out, const Key32& key) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (uint8_t b : key) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
}

bool parseSecretHex(std::string_view hex, Key32& out) {
  if (hex.size() != 2 * out.size()) return false;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < out.size(); ++i) {
    int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}

}  // namespace meshslice

