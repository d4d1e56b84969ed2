#include "transport/noise_crypto.h"

#include <cassert>
#include <cstdlib>
#include <cstring>

namespace meshslice::noise {
namespace {

constexpr size_t kNonceLen = crypto_aead_chacha20poly1305_IETF_NPUBBYTES;
static_assert(kNonceLen == 12);
static_assert(crypto_aead_chacha20poly1305_IETF_ABYTES == kTagLen);
static_assert(crypto_scalarmult_BYTES == kDhLen);

std::array<uint8_t, kNonceLen> nonceBytes(uint64_t n) {
  std::array<uint8_t, kNonceLen> out{};
  for (size_t i = 0; i < 8; ++i) out[4 + i] = static_cast<uint8_t>(n >> (8 * i));
  return out;
}

void update(crypto_generichash_state& st, ByteView data) {
  if (!data.empty()) crypto_generichash_update(&st, data.data(), data.size());
}

}  // namespace

KeyPair::~KeyPair() { wipe(priv); }
Hkdf2::~Hkdf2() {
  wipe(out1);
  wipe(out2);
}
Hkdf3::~Hkdf3() {
  wipe(out1);
  wipe(out2);
  wipe(out3);
}

void ensureSodium() {
  if (sodium_init() < 0) std::abort();
}

KeyPair generateKeyPair() {
  ensureSodium();
  Key32 priv;
  randombytes_buf(priv.data(), priv.size());
  KeyPair kp = keyPairFromPrivate(priv);
  wipe(priv);
  return kp;
}

KeyPair keyPairFromPrivate(const Key32& priv) {
  ensureSodium();
  KeyPair kp;
  kp.priv = priv;
  crypto_scalarmult_base(kp.pub.data(), kp.priv.data());
  return kp;
}

Result<Key32> dh(const KeyPair& local, const Key32& remote_pub) {
  ensureSodium();
  Key32 shared;
  // libsodium returns -1 for an all-zero result; check ourselves too so the rule does not
  // depend on the library version.
  int rc = crypto_scalarmult(shared.data(), local.priv.data(), remote_pub.data());
  if (rc != 0 || sodium_is_zero(shared.data(), shared.size())) {
    wipe(shared);
    return Status(Code::kAuthFailed, "noise: low-order public key (all-zero DH output)");
  }
  return shared;
}

Bytes aeadEncrypt(const CipherKey& k, uint64_t nonce, ByteView ad, ByteView plaintext) {
  Bytes out(plaintext.size() + kTagLen);
  aeadEncryptInto(k, nonce, ad, plaintext, out);
  return out;
}

void aeadEncryptInto(const CipherKey& k, uint64_t nonce, ByteView ad, ByteView plaintext,
                     std::span<uint8_t> out) {
  ensureSodium();
  assert(out.size() == plaintext.size() + kTagLen && "aeadEncryptInto: output size");
  auto n = nonceBytes(nonce);
  crypto_aead_chacha20poly1305_ietf_encrypt(out.data(), nullptr, plaintext.data(), plaintext.size(),
                                            ad.data(), ad.size(), nullptr, n.data(), k.data());
}

Result<Bytes> aeadDecrypt(const CipherKey& k, uint64_t nonce, ByteView ad, ByteView ciphertext) {
  if (ciphertext.size() < kTagLen) return malformed("noise: ciphertext shorter than its tag");
  Bytes out(ciphertext.size() - kTagLen);
  auto len = aeadDecryptInto(k, nonce, ad, ciphertext, out);
  if (!len) return len.status();
  out.resize(*len);
  return out;
}

Result<size_t> aeadDecryptInto(const CipherKey& k, uint64_t nonce, ByteView ad, ByteView ciphertext,
                               std::span<uint8_t> out) {
  ensureSodium();
  if (ciphertext.size() < kTagLen) return malformed("noise: ciphertext shorter than its tag");
  assert(out.size() >= ciphertext.size() - kTagLen);
  auto n = nonceBytes(nonce);
  unsigned long long out_len = 0;
  if (crypto_aead_chacha20poly1305_ietf_decrypt(out.data(), &out_len, nullptr, ciphertext.data(),
                                                ciphertext.size(), ad.data(), ad.size(),
                                                n.data(), k.data()) != 0) {
    return Status(Code::kAuthFailed, "noise: AEAD authentication failed");
  }
  return static_cast<size_t>(out_len);
}

Hash hash(ByteView a, ByteView b) {
  ensureSodium();
  crypto_generichash_state st;
  crypto_generichash_init(&st, nullptr, 0, kHashLen);
  update(st, a);
  update(st, b);
  Hash out;
  crypto_generichash_final(&st, out.data(), out.size());
  return out;
}

Hash hmac(ByteView key, ByteView data) {
  ensureSodium();
  // RFC 2104: keys longer than a block are hashed first; then zero-padded to the block.
  std::array<uint8_t, kBlockLen> block{};
  if (key.size() > kBlockLen) {
    Hash hk = hash(key);
    std::memcpy(block.data(), hk.data(), hk.size());
    wipe(hk);
  } else if (!key.empty()) {
    std::memcpy(block.data(), key.data(), key.size());
  }
  std::array<uint8_t, kBlockLen> pad;
  for (size_t i = 0; i < kBlockLen; ++i) pad[i] = block[i] ^ 0x36;
  Hash inner = hash(pad, data);
  for (size_t i = 0; i < kBlockLen; ++i) pad[i] = block[i] ^ 0x5c;
  Hash out = hash(pad, inner);
  wipe(block);
  wipe(pad);
  wipe(inner);
  return out;
}

Hkdf2 hkdf2(const Hash& ck, ByteView ikm) {
  Hash temp_key = hmac(ck, ikm);
  Hkdf2 r;
  const uint8_t one = 0x01;
  r.out1 = hmac(temp_key, {&one, 1});
  Bytes in(r.out1.begin(), r.out1.end());
  in.push_back(0x02);
  r.out2 = hmac(temp_key, in);
  wipe(in);
  wipe(temp_key);
  return r;
}

Hkdf3 hkdf3(const Hash& ck, ByteView ikm) {
  Hash temp_key = hmac(ck, ikm);
  Hkdf3 r;
  const uint8_t one = 0x01;
  r.out1 = hmac(temp_key, {&one, 1});
  Bytes in(r.out1.begin(), r.out1.end());
  in.push_back(0x02);
  r.out2 = hmac(temp_key, in);
  std::memcpy(in.data(), r.out2.data(), kHashLen);
  in.back() = 0x03;
  r.out3 = hmac(temp_key, in);
  wipe(in);
  wipe(temp_key);
  return r;
}

CipherKey truncateKey(const Hash& h) {
  CipherKey k;
  std::memcpy(k.data(), h.data(), k.size());
  return k;
}

}  // namespace meshslice::noise
