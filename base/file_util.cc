#include "base/file_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace meshslice {

std::string errnoText(int err) { return std::strerror(err); }

std::string dirOf(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

Status writeAll(int fd, ByteView data, const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ioError("write " + path + ": " + errnoText(errno));
    done += static_cast<size_t>(n);
  }
  return Status::ok();
}

Status fsyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ioError("open " + dir + ": " + errnoText(errno));
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return ioError("fsync " + dir + ": " + errnoText(err));
  return Status::ok();
}

Status writeDurableFile(const std::string& tmp, ByteView contents) {
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return ioError("create " + tmp + ": " + errnoText(errno));
  Status st = writeAll(fd, contents, tmp);
  // The umask can only remove bits from 0600; set it exactly anyway.
  if (st.isOk() && ::fchmod(fd, 0600) != 0) st = ioError("chmod " + tmp + ": " + errnoText(errno));
  if (st.isOk() && ::fsync(fd) != 0) st = ioError("fsync " + tmp + ": " + errnoText(errno));
  if (::close(fd) != 0 && st.isOk()) st = ioError("close " + tmp + ": " + errnoText(errno));
  if (!st.isOk()) ::unlink(tmp.c_str());
  return st;
}

}  // namespace meshslice
