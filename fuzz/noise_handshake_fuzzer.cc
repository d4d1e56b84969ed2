// Fuzzes the Noise handshake state machine (the link's Noise_XXpsk3_25519_ChaChaPoly_BLAKE2b)
// with untrusted handshake messages, as a peer sends them before anything is authenticated.
//   byte 0, bit 0: our role (0 = responder, 1 = initiator); byte 1: length L of the first
//   message; the rest is split into that message and the next one.
// Responder: reads message 1 (L bytes), writes message 2, reads message 3 (the rest).
// Initiator: writes message 1, reads message 2 (L bytes), and if that passed writes message 3.
// Keys are fixed so runs are deterministic. Malformed input must fail with a Status, never
// crash; a handshake that completes must split into working transport ciphers.
// Seeds: fuzz/corpus/noise_handshake/ (real first/second messages of each role).
#include <cstddef>
#include <cstdint>

#include "transport/noise_handshake_state.h"
#include "transport/secure_channel.h"

namespace {

using namespace meshslice;

noise::HandshakeConfig config(bool initiator) {
  Key32 s{}, e{}, psk{};
  s.fill(initiator ? 0x11 : 0x22);
  e.fill(initiator ? 0x33 : 0x44);
  psk.fill(0x55);
  noise::HandshakeConfig c;
  c.protocol_name = kLinkProtocolName;
  c.initiator = initiator;
  c.prologue = toBytes(kLinkPrologue);
  c.local_static = noise::keyPairFromPrivate(s);
  c.fixed_ephemeral = noise::keyPairFromPrivate(e);
  c.psks = {psk};
  return c;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const bool initiator = data[0] & 1;
  const size_t first_len = std::min<size_t>(data[1], size - 2);
  ByteView first(data + 2, first_len);
  ByteView second(data + 2 + first_len, size - 2 - first_len);
  auto hs = noise::HandshakeState::create(config(initiator));
  if (!hs.isOk()) __builtin_trap();  // our own configuration is valid
  noise::HandshakeState& h = *hs;
  if (initiator) {
    if (!h.writeMessage({}).isOk()) __builtin_trap();
    if (!h.readMessage(first).isOk()) return 0;
    if (!h.writeMessage({}).isOk()) return 0;
  } else {
    if (!h.readMessage(first).isOk()) return 0;
    if (!h.writeMessage({}).isOk()) __builtin_trap();  // a message 1 that read is answerable
    if (!h.readMessage(second).isOk()) return 0;
  }
  // Only a peer holding the PSK and the keys gets here; the result must be usable.
  if (!h.splitForTransport().isOk()) __builtin_trap();
  return 0;
}
