// Noise SymmetricState (spec rev. 34, section 5.2): chaining key ck, handshake hash h and the
// handshake's CipherState. Owned by one HandshakeState; not thread-safe, movable only. Secrets
// are wiped on destruction.
#pragma once

#include <string_view>
#include <utility>

#include "base/bytes.h"
#include "base/status.h"
#include "transport/noise_cipher_state.h"
#include "transport/noise_crypto.h"

namespace meshslice::noise {

class SymmetricState {
 public:
  SymmetricState() = default;
  ~SymmetricState();
  SymmetricState(SymmetricState&& other) noexcept;
  SymmetricState& operator=(SymmetricState&& other) noexcept;
  SymmetricState(const SymmetricState&) = delete;
  SymmetricState& operator=(const SymmetricState&) = delete;

  // h = protocol name zero-padded to HASHLEN, or its hash if longer; ck = h; no key.
  void initializeSymmetric(std::string_view protocol_name);
  void mixKey(ByteView input_key_material);
  void mixHash(ByteView data);
  void mixKeyAndHash(ByteView input_key_material);
  const Hash& handshakeHash() const { return h_; }
  bool hasKey() const { return cipher_.hasKey(); }

  // Encrypts (once a key exists) with h as associated data, then mixes the ciphertext into h.
  Result<Bytes> encryptAndHash(ByteView plaintext);
  // h is mixed only when decryption succeeds; on failure the caller must abandon the state.
  Result<Bytes> decryptAndHash(ByteView ciphertext);
  // The two transport CipherStates: first encrypts initiator->responder, second the reverse.
  // Leaves this state wiped except for h.
  std::pair<CipherState, CipherState> split();

 private:
  CipherState cipher_;
  Hash ck_{};
  Hash h_{};
};

}  // namespace meshslice::noise
