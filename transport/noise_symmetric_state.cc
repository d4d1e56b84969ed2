#include "transport/noise_symmetric_state.h"

#include <cstring>

namespace meshslice::noise {

SymmetricState::~SymmetricState() {
  wipe(ck_);
  wipe(h_);
}

SymmetricState::SymmetricState(SymmetricState&& other) noexcept
    : cipher_(std::move(other.cipher_)), ck_(other.ck_), h_(other.h_) {
  wipe(other.ck_);
  wipe(other.h_);
}

SymmetricState& SymmetricState::operator=(SymmetricState&& other) noexcept {
  if (this != &other) {
    cipher_ = std::move(other.cipher_);
    ck_ = other.ck_;
    h_ = other.h_;
    wipe(other.ck_);
    wipe(other.h_);
  }
  return *this;
}

void SymmetricState::initializeSymmetric(std::string_view protocol_name) {
  if (protocol_name.size() <= kHashLen) {
    h_.fill(0);
    std::memcpy(h_.data(), protocol_name.data(), protocol_name.size());
  } else {
    h_ = hash(asBytes(protocol_name));
  }
  ck_ = h_;
  cipher_ = CipherState();
}

void SymmetricState::mixKey(ByteView input_key_material) {
  Hkdf2 out = hkdf2(ck_, input_key_material);
  ck_ = out.out1;
  CipherKey k = truncateKey(out.out2);
  cipher_.initializeKey(k);
  wipe(k);
}

void SymmetricState::mixHash(ByteView data) { h_ = hash(h_, data); }

void SymmetricState::mixKeyAndHash(ByteView input_key_material) {
  Hkdf3 out = hkdf3(ck_, input_key_material);
  ck_ = out.out1;
  mixHash(out.out2);
  CipherKey k = truncateKey(out.out3);
  cipher_.initializeKey(k);
  wipe(k);
}

Result<Bytes> SymmetricState::encryptAndHash(ByteView plaintext) {
  Result<Bytes> ct = cipher_.encryptWithAd(h_, plaintext);
  if (ct.isOk()) mixHash(ct.value());
  return ct;
}

Result<Bytes> SymmetricState::decryptAndHash(ByteView ciphertext) {
  Result<Bytes> pt = cipher_.decryptWithAd(h_, ciphertext);
  if (pt.isOk()) mixHash(ciphertext);
  return pt;
}

std::pair<CipherState, CipherState> SymmetricState::split() {
  Hkdf2 out = hkdf2(ck_, {});
  CipherKey k1 = truncateKey(out.out1);
  CipherKey k2 = truncateKey(out.out2);
  std::pair<CipherState, CipherState> result;
  result.first.initializeKey(k1);
  result.second.initializeKey(k2);
  wipe(k1);
  wipe(k2);
  wipe(ck_);
  cipher_ = CipherState();
  return result;
}

}  // namespace meshslice::noise
