#include "transport/noise_cipher_state.h"

#include <algorithm>
#include <cstring>

namespace meshslice::noise {

CipherState::~CipherState() { clear(); }

CipherState::CipherState(CipherState&& other) noexcept
    : k_(other.k_), n_(other.n_), has_key_(other.has_key_) {
  other.clear();
}

CipherState& CipherState::operator=(CipherState&& other) noexcept {
  if (this != &other) {
    k_ = other.k_;
    n_ = other.n_;
    has_key_ = other.has_key_;
    other.clear();
  }
  return *this;
}

void CipherState::clear() {
  wipe(k_);
  n_ = 0;
  has_key_ = false;
}

void CipherState::initializeKey(const CipherKey& key) {
  k_ = key;
  n_ = 0;
  has_key_ = true;
}

Result<Bytes> CipherState::encryptWithAd(ByteView ad, ByteView plaintext) {
  if (has_key_ && plaintext.size() > kMaxMessageLen - kTagLen) {
    return tooLarge("noise: plaintext exceeds the 65535-byte message limit");  // before allocating
  }
  Bytes out(plaintext.size() + (has_key_ ? kTagLen : 0));
  MS_RETURN_IF_ERROR(encryptInto(ad, plaintext, out));
  return out;
}

Status CipherState::encryptInto(ByteView ad, ByteView plaintext, std::span<uint8_t> out) {
  if (out.size() != plaintext.size() + (has_key_ ? kTagLen : 0)) {
    return invalidArgument("noise: output buffer does not fit the ciphertext");
  }
  if (!has_key_) {
    std::copy(plaintext.begin(), plaintext.end(), out.begin());
    return Status::ok();
  }
  if (plaintext.size() > kMaxMessageLen - kTagLen) {
    return tooLarge("noise: plaintext exceeds the 65535-byte message limit");
  }
  if (n_ == kReservedNonce) return Status(Code::kClosed, "noise: nonce space exhausted");
  aeadEncryptInto(k_, n_, ad, plaintext, out);
  ++n_;
  return Status::ok();
}

Result<Bytes> CipherState::decryptWithAd(ByteView ad, ByteView ciphertext) {
  if (!has_key_) return Bytes(ciphertext.begin(), ciphertext.end());
  if (ciphertext.size() > kMaxMessageLen) {
    return tooLarge("noise: ciphertext exceeds the 65535-byte message limit");
  }
  if (n_ == kReservedNonce) return Status(Code::kClosed, "noise: nonce space exhausted");
  Result<Bytes> out = aeadDecrypt(k_, n_, ad, ciphertext);
  if (out.isOk()) ++n_;
  return out;
}

Result<size_t> CipherState::decryptInto(ByteView ad, ByteView ciphertext, std::span<uint8_t> out) {
  if (!has_key_) {
    if (out.size() < ciphertext.size()) return invalidArgument("noise: output buffer too small");
    std::copy(ciphertext.begin(), ciphertext.end(), out.begin());
    return ciphertext.size();
  }
  if (ciphertext.size() > kMaxMessageLen) {
    return tooLarge("noise: ciphertext exceeds the 65535-byte message limit");
  }
  if (ciphertext.size() >= kTagLen && out.size() < ciphertext.size() - kTagLen) {
    return invalidArgument("noise: output buffer too small");
  }
  if (n_ == kReservedNonce) return Status(Code::kClosed, "noise: nonce space exhausted");
  Result<size_t> len = aeadDecryptInto(k_, n_, ad, ciphertext, out);
  if (len.isOk()) ++n_;
  return len;
}

void CipherState::rekey() {
  if (!has_key_) return;
  // REKEY(k) = first 32 bytes of ENCRYPT(k, 2^64-1, empty ad, 32 zero bytes).
  const std::array<uint8_t, kKeyLen> zeros{};
  Bytes out = aeadEncrypt(k_, kReservedNonce, {}, zeros);
  std::memcpy(k_.data(), out.data(), kKeyLen);
  wipe(out);
}

}  // namespace meshslice::noise
