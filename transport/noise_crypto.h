// Noise crypto primitives for the one suite meshslice speaks: 25519 + ChaChaPoly + BLAKE2b
// (Noise spec rev. 34, sections 4 and 12), all on libsodium. Stateless and thread-safe; every
// function calls sodium_init() lazily through ensureSodium().
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include <sodium.h>

#include "base/bytes.h"
#include "base/status.h"

namespace meshslice::noise {

// Spec constants (Noise rev. 34). Tuning knobs live with their users, not here.
inline constexpr size_t kDhLen = 32;              // X25519 public key / shared secret
inline constexpr size_t kKeyLen = 32;             // cipher key
inline constexpr size_t kTagLen = 16;             // Poly1305 tag
inline constexpr size_t kHashLen = 64;            // BLAKE2b-512
inline constexpr size_t kBlockLen = 128;          // BLAKE2b block size, for HMAC
inline constexpr size_t kMaxMessageLen = 65535;   // every Noise message, handshake or transport
inline constexpr uint64_t kReservedNonce = UINT64_MAX;  // never used for a message

using Hash = std::array<uint8_t, kHashLen>;
using CipherKey = std::array<uint8_t, kKeyLen>;

// An X25519 key pair. The destructor wipes the private half; copies are independent secrets
// the copier must let die the same way (keep copies few).
struct KeyPair {
  Key32 priv{};
  Key32 pub{};

  KeyPair() = default;
  KeyPair(const KeyPair&) = default;
  KeyPair& operator=(const KeyPair&) = default;
  ~KeyPair();
};

// Calls sodium_init() once; aborts if libsodium cannot initialise (nothing would be safe).
void ensureSodium();

// Fresh key pair from libsodium's CSPRNG.
KeyPair generateKeyPair();
// Derives the public half. Any 32 bytes are a valid X25519 private key (clamped by libsodium).
KeyPair keyPairFromPrivate(const Key32& priv);

// X25519(priv, pub). Fails (kAuthFailed) when the result is all zeros, i.e. `pub` is a
// low-order point: a peer that sends one gets no session.
Result<Key32> dh(const KeyPair& local, const Key32& remote_pub);

// ChaCha20-Poly1305 IETF with the Noise nonce layout: 4 zero bytes, then `nonce` little-endian.
// Returns plaintext || 16-byte tag.
Bytes aeadEncrypt(const CipherKey& k, uint64_t nonce, ByteView ad, ByteView plaintext);
// The same into `out`, which must hold exactly plaintext.size() + kTagLen bytes and must not
// overlap `plaintext` (callers encrypt straight into a link's write buffer).
void aeadEncryptInto(const CipherKey& k, uint64_t nonce, ByteView ad, ByteView plaintext,
                     std::span<uint8_t> out);
// kAuthFailed if the tag does not verify, kMalformed if shorter than a tag.
Result<Bytes> aeadDecrypt(const CipherKey& k, uint64_t nonce, ByteView ad, ByteView ciphertext);
// The same into `out`, which must hold at least ciphertext.size() - kTagLen bytes and must not
// overlap `ciphertext`; returns the plaintext length. On error `out` holds no plaintext.
Result<size_t> aeadDecryptInto(const CipherKey& k, uint64_t nonce, ByteView ad, ByteView ciphertext,
                               std::span<uint8_t> out);

// BLAKE2b-512 of the concatenation of `a` and `b` (b may be empty).
Hash hash(ByteView a, ByteView b = {});
// HMAC per RFC 2104 over BLAKE2b-512 with a 128-byte block (Noise spec 4.3).
Hash hmac(ByteView key, ByteView data);

// Noise HKDF (spec 4.3): two or three HASHLEN outputs from chaining key `ck` and `ikm`.
struct Hkdf2 {
  Hash out1, out2;
  ~Hkdf2();
};
struct Hkdf3 {
  Hash out1, out2, out3;
  ~Hkdf3();
};
Hkdf2 hkdf2(const Hash& ck, ByteView ikm);
Hkdf3 hkdf3(const Hash& ck, ByteView ikm);

// The first kKeyLen bytes of a hash output, as a cipher key (spec 5.2: truncation for 64-byte
// hashes).
CipherKey truncateKey(const Hash& h);

// sodium_memzero over a fixed-size key or hash.
template <size_t N>
void wipe(std::array<uint8_t, N>& secret) {
  sodium_memzero(secret.data(), N);
}
inline void wipe(Bytes& secret) { sodium_memzero(secret.data(), secret.size()); }

}  // namespace meshslice::noise
