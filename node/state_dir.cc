#include "node/state_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "mesh/key_file.h"

namespace meshslice {

std::string controlSocketPath(const std::string& state_dir) { return state_dir + "/control.sock"; }
std::string lockFilePath(const std::string& state_dir) { return state_dir + "/daemon.lock"; }
std::string allowListPath(const std::string& state_dir) { return state_dir + "/allow.list"; }
std::string storesDir(const std::string& state_dir) { return state_dir + "/stores"; }

namespace {

std::string readPid(int fd) {
  char buf[32] = {};
  ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  std::string pid = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
  while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
  return pid;
}

}  // namespace

Result<DaemonLock> DaemonLock::acquire(const std::string& state_dir) {
  Status st = ensurePrivateDir(state_dir);
  if (!st.isOk()) return Status(st.code(), "state directory " + state_dir + " is not usable: " + st.message());
  std::string path = lockFilePath(state_dir);
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    int err = errno;
    Code code = (err == EACCES || err == EPERM || err == EROFS) ? Code::kPermissionDenied : Code::kIo;
    return Status(code, "state directory " + state_dir + " is not writable: " + std::strerror(err));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    std::string pid = readPid(fd);
    ::close(fd);
    if (err == EWOULDBLOCK)
      return Status(Code::kAlreadyExists, "another meshslice daemon is running on " + state_dir +
                                              (pid.empty() ? "" : " (pid " + pid + ")"));
    return ioError("lock " + path + ": " + std::strerror(err));
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    int err = errno;
    ::close(fd);
    return ioError("state directory " + state_dir + " is not writable: " + std::strerror(err));
  }
  return DaemonLock(fd);
}

bool DaemonLock::isHeld(const std::string& state_dir) {
  int fd = ::open(lockFilePath(state_dir).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return false;
  bool held = ::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);  // drops our shared lock if we got it
  return held;
}

DaemonLock::~DaemonLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the descriptor releases the flock
}

Result<KeyCreationLock> KeyCreationLock::acquire(const std::string& state_dir, const std::function<void()>& on_wait) {
  Status st = ensurePrivateDir(state_dir);
  if (!st.isOk()) return Status(st.code(), "state directory " + state_dir + " is not usable: " + st.message());
  int fd = ::open(state_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ioError("state directory " + state_dir + " cannot be opened: " + std::strerror(errno));
  int rc = ::flock(fd, LOCK_EX | LOCK_NB);
  if (rc != 0 && errno == EWOULDBLOCK) {
    if (on_wait) on_wait();
    do rc = ::flock(fd, LOCK_EX);
    while (rc != 0 && errno == EINTR);
  }
  if (rc != 0) {
    int err = errno;
    ::close(fd);
    return ioError("state directory " + state_dir + " cannot be locked: " + std::strerror(err));
  }
  return KeyCreationLock(fd);
}

KeyCreationLock::~KeyCreationLock() {
  if (fd_ >= 0) ::close(fd_);
}

Result<std::optional<std::set<DeviceId>>> loadAllowList(const std::string& state_dir) {
  std::string path = allowListPath(state_dir);
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (::access(path.c_str(), F_OK) != 0 && errno == ENOENT) return std::optional<std::set<DeviceId>>();
    return ioError("cannot read allow-list " + path);
  }
  std::set<DeviceId> ids;
  std::string line;
  size_t line_no = 0, total = 0;
  while (std::getline(in, line)) {
    ++line_no;
    total += line.size() + 1;
    if (total > kMaxAllowListSize) return tooLarge("allow-list " + path + " is too large");
    size_t b = line.find_first_not_of(" \t\r");
    if (b == std::string::npos || line[b] == '#') continue;
    size_t e = line.find_last_not_of(" \t\r");
    auto id = DeviceId::parse(std::string_view(line).substr(b, e - b + 1));
    if (!id) return malformed("allow-list " + path + " line " + std::to_string(line_no) + ": " + id.status().message());
    ids.insert(*id);
  }
  return std::optional<std::set<DeviceId>>(std::move(ids));
}

Status saveAllowList(const std::string& state_dir, const std::set<DeviceId>& ids) {
  std::string text = "# meshslice allow-list: only these devices may join (delete the file to allow any)\n";
  for (const auto& id : ids) text += id.toString() + "\n";
  MS_RETURN_IF_ERROR(ensurePrivateDir(state_dir));
  return writePrivateFile(allowListPath(state_dir), text, /*replace=*/true);
}

}  // namespace meshslice
