// The daemon's state directory (mode 0700) and what lives in it:
//   identity.key   this device's key pair (mesh/identity.h)
//   mesh.key       the mesh secret (mesh/mesh_secret.h)
//   allow.list     optional allow-list: present = only the listed devices may join
//   meshslice.conf optional config file (node/daemon_config.h)
//   daemon.lock    flock()ed by the running daemon; holds its pid
//   (the directory itself is flock()ed while keys are created: KeyCreationLock)
//   control.sock   the control socket (node/control_server.h)
//   stores/        persisted local slices, one <store-id>.slice file per store
// Blocking file I/O: startup and CLI code, not the loop thread's hot path.
#pragma once

#include <functional>
#include <optional>
#include <set>
#include <string>

#include "base/status.h"
#include "mesh/device_id.h"

namespace meshslice {

inline constexpr size_t kMaxAllowListSize = 256 * 1024;

std::string controlSocketPath(const std::string& state_dir);
std::string lockFilePath(const std::string& state_dir);
std::string allowListPath(const std::string& state_dir);
std::string storesDir(const std::string& state_dir);

// An exclusive flock() on <state_dir>/daemon.lock, held for the object's lifetime (and
// released by the kernel if the process dies, so a crash never leaves a stale lock).
class DaemonLock {
 public:
  // Creates the state directory if missing. kAlreadyExists (naming the holder's pid) if a
  // daemon holds the lock; kPermissionDenied / kIo (naming the directory) if it is not
  // writable.
  static Result<DaemonLock> acquire(const std::string& state_dir);
  // Whether some process holds the lock right now (clients: is the daemon still running?).
  static bool isHeld(const std::string& state_dir);

  DaemonLock(DaemonLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  DaemonLock& operator=(DaemonLock&&) = delete;
  DaemonLock(const DaemonLock&) = delete;
  ~DaemonLock();

 private:
  explicit DaemonLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// An exclusive flock() on the state directory itself, held while identity.key or mesh.key is
// created or replaced, and by a starting daemon from before it reads them until it has saved
// the ones it created (or given up). With it a first `up` and a concurrent `mesh invite`, `id`
// or `mesh join` never make two keys: whoever comes second waits and reads what the first
// wrote. Locking the directory (not a file in it) creates nothing, so a read-only or failing
// state directory is left exactly as it was. Released when destroyed (or the process dies).
class KeyCreationLock {
 public:
  // Creates the state directory if missing, then waits for the lock, calling `on_wait` first
  // if it is held. Holders keep it for file writes and a node start only, so the wait is
  // short. Errors name the directory.
  static Result<KeyCreationLock> acquire(const std::string& state_dir,
                                         const std::function<void()>& on_wait = nullptr);

  KeyCreationLock(KeyCreationLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  KeyCreationLock& operator=(KeyCreationLock&&) = delete;
  KeyCreationLock(const KeyCreationLock&) = delete;
  ~KeyCreationLock();

 private:
  explicit KeyCreationLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// The allow-list file: one device ID per line, '#' comments, blank lines ignored.
// std::nullopt if the file does not exist (allow-list off). kMalformed naming the line.
Result<std::optional<std::set<DeviceId>>> loadAllowList(const std::string& state_dir);
// Replaces the file atomically (mode 0600).
Status saveAllowList(const std::string& state_dir, const std::set<DeviceId>& ids);

}  // namespace meshslice
