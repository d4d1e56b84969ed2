// The 32-byte secret that defines a mesh. Only holders of it complete a handshake (it keys the
// Noise PSK); discovery adverts carry only the non-secret tag derived from it.
//
// Derivations (BLAKE2b keyed with the secret, so the raw secret is never itself a key in two
// roles):
//   tag() = hex(BLAKE2b-256(key = secret, "meshslice-mesh-tag-v1")[0..8])   16 hex chars
//   psk() = BLAKE2b-256(key = secret, "meshslice-noise-psk-v1")
// Invite string (shared out of band):
//   "msm1-" + lower-case base32(secret || BLAKE2b-32(secret)), 58 characters after the prefix,
//   optionally grouped with '-' every 8 characters.
// Stored in <state_dir>/mesh.key, mode 0600, with the rules of key_file.h:
//   meshslice-mesh v1
//   secret <64 hex digits>
//
// Value type, wiped on destruction and when moved from. Thread-compatible.
#pragma once

#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/status.h"

namespace meshslice {

inline constexpr std::string_view kMeshKeyFileName = "mesh.key";
inline constexpr std::string_view kInvitePrefix = "msm1-";

enum class InviteFormat {
  kCompact,  // one token, safe to double-click-select in a terminal
  kGrouped,  // '-' every 8 characters, easier to read aloud or type
};

class MeshSecret {
 public:
  // 32 bytes from libsodium's CSPRNG.
  static MeshSecret generate();
  static MeshSecret fromBytes(const Key32& secret);
  // Accepts either case, ignores '-' and whitespace after the prefix. kInvalidArgument with
  // distinct messages for: wrong prefix, invalid character, wrong length, checksum mismatch.
  static Result<MeshSecret> fromInvite(std::string_view invite);

  // Reads <state_dir>/mesh.key (kNotFound if missing, kPermissionDenied if group/others have
  // access, kMalformed if corrupt; messages name the file and the fix).
  static Result<MeshSecret> load(const std::string& state_dir);
  // Atomically writes <state_dir>/mesh.key (mode 0600), replacing any existing one; creates
  // state_dir (0700) if missing.
  Status save(const std::string& state_dir) const;
  // As save(), but only if there is no mesh.key yet: kAlreadyExists, and the existing file
  // untouched, otherwise (link(2): of concurrent creators exactly one wins).
  Status create(const std::string& state_dir) const;
  // load(), or generate() + save() if there is no mesh.key yet. Never overwrites a file.
  static Result<MeshSecret> loadOrCreate(const std::string& state_dir);

  MeshSecret(const MeshSecret& other) = default;
  MeshSecret& operator=(const MeshSecret& other) = default;
  MeshSecret(MeshSecret&& other) noexcept;
  MeshSecret& operator=(MeshSecret&& other) noexcept;
  ~MeshSecret();

  // The invite holds the secret: show it to the user, never log it.
  std::string toInvite(InviteFormat format = InviteFormat::kCompact) const;
  // Non-secret mesh tag for mDNS TXT records (16 lower-case hex characters).
  std::string tag() const;
  // Noise PSK. The caller wipes the returned copy after use.
  Key32 psk() const;
  const Key32& bytes() const { return secret_; }

  // Constant time.
  friend bool operator==(const MeshSecret& a, const MeshSecret& b);

 private:
  explicit MeshSecret(const Key32& secret) : secret_(secret) {}
  Status writeFile(const std::string& path, bool replace) const;

  Key32 secret_{};
};

}  // namespace meshslice
