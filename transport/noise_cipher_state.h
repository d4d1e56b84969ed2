// Noise CipherState (spec rev. 34, section 5.1): a cipher key plus a 64-bit nonce. Used inside
// the handshake and, after split(), as one direction of a transport link.
//
// Not thread-safe; owned by one link on the loop thread. Movable, not copyable (a copy would
// reuse nonces). The key is wiped on destruction and when replaced.
#pragma once

#include <optional>
#include <span>

#include "base/bytes.h"
#include "base/status.h"
#include "transport/noise_crypto.h"

namespace meshslice::noise {

class CipherState {
 public:
  CipherState() = default;
  ~CipherState();
  CipherState(CipherState&& other) noexcept;
  CipherState& operator=(CipherState&& other) noexcept;
  CipherState(const CipherState&) = delete;
  CipherState& operator=(const CipherState&) = delete;

  // Sets the key and resets the nonce to zero.
  void initializeKey(const CipherKey& key);
  bool hasKey() const { return has_key_; }
  // Spec's SetNonce; for tests and out-of-order transports. Reusing a nonce breaks security.
  void setNonce(uint64_t n) { n_ = n; }
  uint64_t nonce() const { return n_; }

  // Without a key returns the plaintext unchanged (spec). Fails with kTooLarge when the result
  // would exceed kMaxMessageLen, and with kClosed once the nonce reached 2^64-1 (the key must
  // not be used again). The nonce advances only on success.
  Result<Bytes> encryptWithAd(ByteView ad, ByteView plaintext);
  // encryptWithAd into `out`, which must hold exactly plaintext.size() + kTagLen bytes (or
  // plaintext.size() without a key) and not overlap the plaintext. Same errors; kInvalidArgument
  // for a wrong `out` size. Nothing is written on error.
  Status encryptInto(ByteView ad, ByteView plaintext, std::span<uint8_t> out);
  // kAuthFailed on a forged/corrupted ciphertext (nonce not advanced), kMalformed if shorter
  // than a tag, kTooLarge above kMaxMessageLen, kClosed at nonce 2^64-1.
  Result<Bytes> decryptWithAd(ByteView ad, ByteView ciphertext);
  // decryptWithAd into `out` (at least ciphertext.size() - kTagLen bytes, not overlapping the
  // ciphertext): the plaintext's length. Same errors; a channel decrypts every frame into one
  // reused buffer this way.
  Result<size_t> decryptInto(ByteView ad, ByteView ciphertext, std::span<uint8_t> out);
  // Replaces the key with the spec's REKEY(k); the nonce is unchanged. Both directions of a
  // link must rekey at the same message count. No-op without a key.
  void rekey();

 private:
  void clear();

  CipherKey k_{};
  uint64_t n_ = 0;
  bool has_key_ = false;
};

}  // namespace meshslice::noise
