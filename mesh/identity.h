// This device's long-term identity: an X25519 key pair (the Noise static key), the DeviceId
// derived from its public key, and a display name.
//
// Stored in <state_dir>/identity.key, mode 0600, created on first start. File format (text,
// versioned; lines end with '\n'):
//   meshslice-identity v1
//   private <64 hex digits: the X25519 private key>
//   name <display name, UTF-8, at most kMaxNameLength bytes, may be empty>
// The public key and device ID are derived on load, never stored.
//
// Move-only; the private key is wiped on destruction and when moved from. Thread-compatible.
#pragma once

#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/status.h"
#include "mesh/device_id.h"

namespace meshslice {

inline constexpr std::string_view kIdentityFileName = "identity.key";

class Identity {
 public:
  // A fresh key pair from libsodium's CSPRNG. Asserts that validateDeviceName(name) is OK
  // (protocol_constants.h).
  static Identity generate(std::string_view name);
  // Rebuilds an identity from a stored private key (tests, known-answer vectors). The key is
  // clamped by X25519 itself; any 32 bytes are valid.
  static Identity fromPrivateKey(const Key32& private_key, std::string_view name);

  // Loads <state_dir>/identity.key, or creates it (and state_dir, mode 0700) with a new key
  // pair named `name_if_new`. Never overwrites an existing file: a corrupt file is kMalformed,
  // a file readable/writable by group or others is kPermissionDenied, and both messages name
  // the file and the fix. Blocking I/O.
  static Result<Identity> loadOrCreate(const std::string& state_dir,
                                       std::string_view name_if_new);
  // Loads an existing identity file (kNotFound if missing).
  static Result<Identity> load(const std::string& path);
  // Writes this identity to `path` atomically, mode 0600. With replace == false an existing
  // file is left alone and kAlreadyExists returned.
  Status save(const std::string& path, bool replace) const;

  Identity(Identity&& other) noexcept;
  Identity& operator=(Identity&& other) noexcept;
  Identity(const Identity&) = delete;
  Identity& operator=(const Identity&) = delete;
  ~Identity();

  const Key32& publicKey() const { return public_key_; }
  // Secret: hand it only to the handshake; never log or copy it elsewhere.
  const Key32& privateKey() const { return private_key_; }
  const DeviceId& deviceId() const { return device_id_; }
  const std::string& name() const { return name_; }

 private:
  Identity(const Key32& private_key, std::string_view name);
  void wipe();

  Key32 private_key_{};
  Key32 public_key_{};
  DeviceId device_id_;
  std::string name_;
};

}  // namespace meshslice
