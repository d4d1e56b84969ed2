// Noise handshake patterns as token lists (spec rev. 34, sections 7 and 9) and the parser for
// full protocol names such as "Noise_XXpsk3_25519_ChaChaPoly_BLAKE2b". Pure data, no state:
// safe from any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace meshslice::noise {

enum class Token : uint8_t { kE, kS, kEE, kES, kSE, kSS, kPsk };

const char* tokenName(Token t);

struct HandshakePattern {
  std::string name;  // with modifiers, e.g. "XXpsk3"
  // Pre-messages: keys each side knows of the other before the first message ("-> s", "<- s").
  std::vector<Token> initiator_pre;
  std::vector<Token> responder_pre;
  // messages[i] is sent by the initiator when i is even, by the responder when odd.
  std::vector<std::vector<Token>> messages;

  // A one-way pattern (N, K, X and their psk variants) has one handshake message, and all
  // transport traffic flows initiator -> responder.
  bool oneWay() const { return messages.size() == 1; }
  bool hasPsk() const { return pskCount() > 0; }
  size_t pskCount() const;
  // Whether `initiator`'s side ever sends its static key (pre-message or "s" token), i.e. needs
  // a local static key pair.
  bool sendsStatic(bool initiator) const;
  // Whether `initiator`'s side must know the peer's static key before the handshake.
  bool needsRemoteStaticUpFront(bool initiator) const;
  bool needsRemoteEphemeralUpFront(bool initiator) const;
};

// The four '_'-separated parts of a protocol name after "Noise_". Checks shape only.
struct ProtocolNameParts {
  std::string pattern;  // "XXpsk3"
  std::string dh;       // "25519"
  std::string cipher;   // "ChaChaPoly"
  std::string hash;     // "BLAKE2b"
};
Result<ProtocolNameParts> splitProtocolName(std::string_view full_name);
// True for the only suite implemented: 25519 + ChaChaPoly + BLAKE2b.
bool isSupportedSuite(const ProtocolNameParts& parts);

// A base pattern ("XX", "NK1", ...) with modifiers ("psk0", "psk0+psk2") applied per spec
// section 9. kInvalidArgument for unknown patterns or modifiers.
Result<HandshakePattern> lookupPattern(std::string_view pattern_with_modifiers);

// Full name -> pattern. kInvalidArgument on a malformed name, an unknown pattern or modifier,
// or a suite other than 25519_ChaChaPoly_BLAKE2b.
Result<HandshakePattern> parseProtocolName(std::string_view full_name);

}  // namespace meshslice::noise
