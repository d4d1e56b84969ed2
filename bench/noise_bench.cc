// Noise on this machine: transport encryption through CipherState (what a link does per
// frame) against libsodium's ChaCha20-Poly1305 IETF called directly (the limit), and full
// Noise_XXpsk3_25519_ChaChaPoly_BLAKE2b handshakes, both sides on one core (target: >= 2,000/s).
#include <benchmark/benchmark.h>
#include <sodium.h>

#include <cstring>

#include "transport/noise_cipher_state.h"
#include "transport/noise_handshake_state.h"
#include "transport/secure_channel.h"

namespace meshslice {
namespace {

noise::CipherKey someKey() {
  noise::CipherKey k;
  randombytes_buf(k.data(), k.size());
  return k;
}

void BM_SodiumAeadEncrypt(benchmark::State& state) {
  noise::ensureSodium();
  const size_t size = static_cast<size_t>(state.range(0));
  const Bytes plain(size, 0x42);
  Bytes out(size + crypto_aead_chacha20poly1305_ietf_ABYTES);
  noise::CipherKey key = someKey();
  uint8_t nonce[crypto_aead_chacha20poly1305_ietf_NPUBBYTES] = {};
  uint64_t n = 0;
  for (auto _ : state) {
    std::memcpy(nonce + 4, &n, sizeof n);
    ++n;
    unsigned long long len = 0;
    crypto_aead_chacha20poly1305_ietf_encrypt(out.data(), &len, plain.data(), plain.size(), nullptr, 0,
                                              nullptr, nonce, key.data());
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * size));
}
BENCHMARK(BM_SodiumAeadEncrypt)->Arg(64)->Arg(1024)->Arg(65519);

void BM_CipherStateEncrypt(benchmark::State& state) {
  noise::ensureSodium();
  const size_t size = static_cast<size_t>(state.range(0));
  const Bytes plain(size, 0x42);
  noise::CipherState cs;
  cs.initializeKey(someKey());
  for (auto _ : state) {
    auto c = cs.encryptWithAd({}, plain);
    benchmark::DoNotOptimize(c);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * size));
}
BENCHMARK(BM_CipherStateEncrypt)->Arg(64)->Arg(1024)->Arg(65519);

void BM_CipherStateDecrypt(benchmark::State& state) {
  noise::ensureSodium();
  const size_t size = static_cast<size_t>(state.range(0));
  const Bytes plain(size, 0x42);
  const noise::CipherKey key = someKey();
  noise::CipherState enc, dec;
  enc.initializeKey(key);
  dec.initializeKey(key);
  // Pre-encrypt a ring of frames so the timed loop only decrypts.
  std::vector<Bytes> frames;
  for (int i = 0; i < 256; ++i) frames.push_back(enc.encryptWithAd({}, plain).value());
  size_t i = 0;
  for (auto _ : state) {
    if (i == frames.size()) {
      state.PauseTiming();
      frames.clear();
      for (int j = 0; j < 256; ++j) frames.push_back(enc.encryptWithAd({}, plain).value());
      i = 0;
      state.ResumeTiming();
    }
    auto p = dec.decryptWithAd({}, frames[i++]);
    if (!p) state.SkipWithError("decrypt failed");
    benchmark::DoNotOptimize(p);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * size));
}
BENCHMARK(BM_CipherStateDecrypt)->Arg(64)->Arg(1024)->Arg(65519);

// One complete XXpsk3 handshake with both sides in this thread, then split().
void BM_XXpsk3Handshake(benchmark::State& state) {
  noise::ensureSodium();
  const noise::KeyPair a = noise::generateKeyPair(), b = noise::generateKeyPair();
  Key32 psk;
  randombytes_buf(psk.data(), psk.size());
  auto config = [&](bool initiator, const noise::KeyPair& s) {
    noise::HandshakeConfig c;
    c.protocol_name = kLinkProtocolName;
    c.initiator = initiator;
    c.prologue = toBytes(kLinkPrologue);
    c.local_static = s;
    c.psks = {psk};
    return c;
  };
  for (auto _ : state) {
    auto i = noise::HandshakeState::create(config(true, a));
    auto r = noise::HandshakeState::create(config(false, b));
    auto m1 = i->writeMessage({});
    (void)r->readMessage(m1.value());
    auto m2 = r->writeMessage({});
    (void)i->readMessage(m2.value());
    auto m3 = i->writeMessage({});
    (void)r->readMessage(m3.value());
    if (!i->isFinished() || !r->isFinished()) state.SkipWithError("handshake did not finish");
    benchmark::DoNotOptimize(i->splitForTransport());
    benchmark::DoNotOptimize(r->splitForTransport());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_XXpsk3Handshake)->Unit(benchmark::kMicrosecond);

void BM_X25519(benchmark::State& state) {
  noise::ensureSodium();
  const noise::KeyPair a = noise::generateKeyPair(), b = noise::generateKeyPair();
  for (auto _ : state) benchmark::DoNotOptimize(noise::dh(a, b.pub));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_X25519)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace meshslice

BENCHMARK_MAIN();
