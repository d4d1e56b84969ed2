#include "transport/noise_pattern.h"

#include <algorithm>
#include <cctype>

namespace meshslice::noise {
namespace {

// Patterns as written in the spec (sections 7.4, 7.5 and 7.6 / 18). Messages alternate
// starting with the initiator; tokens inside a message are ", "-separated.
struct PatternSpec {
  std::string_view name;
  std::string_view initiator_pre;
  std::string_view responder_pre;
  std::vector<std::string_view> messages;
};

const std::vector<PatternSpec>& patternTable() {
  static const std::vector<PatternSpec> kTable = {
      // One-way (7.4).
      {"N", "", "s", {"e, es"}},
      {"K", "s", "s", {"e, es, ss"}},
      {"X", "", "s", {"e, es, s, ss"}},
      // Interactive fundamental (7.5).
      {"NN", "", "", {"e", "e, ee"}},
      {"NK", "", "s", {"e, es", "e, ee"}},
      {"NX", "", "", {"e", "e, ee, s, es"}},
      {"XN", "", "", {"e", "e, ee", "s, se"}},
      {"XK", "", "s", {"e, es", "e, ee", "s, se"}},
      {"XX", "", "", {"e", "e, ee, s, es", "s, se"}},
      {"KN", "s", "", {"e", "e, ee, se"}},
      {"KK", "s", "s", {"e, es, ss", "e, ee, se"}},
      {"KX", "s", "", {"e", "e, ee, se, s, es"}},
      {"IN", "", "", {"e, s", "e, ee, se"}},
      {"IK", "", "s", {"e, es, s, ss", "e, ee, se"}},
      {"IX", "", "", {"e, s", "e, ee, se, s, es"}},
      // Deferred (7.6).
      {"NK1", "", "s", {"e", "e, ee, es"}},
      {"NX1", "", "", {"e", "e, ee, s", "es"}},
      {"X1N", "", "", {"e", "e, ee", "s", "se"}},
      {"X1K", "", "s", {"e, es", "e, ee", "s", "se"}},
      {"XK1", "", "s", {"e", "e, ee, es", "s, se"}},
      {"X1K1", "", "s", {"e", "e, ee, es", "s", "se"}},
      {"X1X", "", "", {"e", "e, ee, s, es", "s", "se"}},
      {"XX1", "", "", {"e", "e, ee, s", "es, s, se"}},
      {"X1X1", "", "", {"e", "e, ee, s", "es, s", "se"}},
      {"K1N", "s", "", {"e", "e, ee", "se"}},
      {"K1K", "s", "s", {"e, es", "e, ee", "se"}},
      {"KK1", "s", "s", {"e", "e, ee, se, es"}},
      {"K1K1", "s", "s", {"e", "e, ee, es", "se"}},
      {"K1X", "s", "", {"e", "e, ee, s, es", "se"}},
      {"KX1", "s", "", {"e", "e, ee, se, s", "es"}},
      {"K1X1", "s", "", {"e", "e, ee, s", "se, es"}},
      {"I1N", "", "", {"e, s", "e, ee", "se"}},
      {"I1K", "", "s", {"e, es, s", "e, ee", "se"}},
      {"IK1", "", "s", {"e, s", "e, ee, se, es"}},
      {"I1K1", "", "s", {"e, s", "e, ee, es", "se"}},
      {"I1X", "", "", {"e, s", "e, ee, s, es", "se"}},
      {"IX1", "", "", {"e, s", "e, ee, se, s", "es"}},
      {"I1X1", "", "", {"e, s", "e, ee, s", "se, es"}},
  };
  return kTable;
}

// Table strings are ours, so an unknown token is a programming error.
std::vector<Token> parseTokens(std::string_view text) {
  std::vector<Token> out;
  while (!text.empty()) {
    size_t end = text.find(',');
    std::string_view t = text.substr(0, end);
    if (t == "e") out.push_back(Token::kE);
    else if (t == "s") out.push_back(Token::kS);
    else if (t == "ee") out.push_back(Token::kEE);
    else if (t == "es") out.push_back(Token::kES);
    else if (t == "se") out.push_back(Token::kSE);
    else if (t == "ss") out.push_back(Token::kSS);
    else assert(false && "bad token in pattern table");
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 2);
  }
  return out;
}

// "psk0+psk2" -> {0, 2}. Rejects other modifiers, duplicates and positions past the last
// message.
Result<std::vector<size_t>> parsePskModifiers(std::string_view mods, size_t message_count) {
  std::vector<size_t> positions;
  while (!mods.empty()) {
    size_t end = mods.find('+');
    std::string_view m = mods.substr(0, end);
    mods = end == std::string_view::npos ? std::string_view() : mods.substr(end + 1);
    if (end != std::string_view::npos && mods.empty()) return invalidArgument("noise: empty modifier");
    if (m.size() < 4 || m.size() > 5 || m.substr(0, 3) != "psk") {
      return invalidArgument("noise: unsupported pattern modifier '" + std::string(m) + "'");
    }
    std::string_view digits = m.substr(3);
    if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
        (digits.size() > 1 && digits[0] == '0')) {
      return invalidArgument("noise: bad psk modifier '" + std::string(m) + "'");
    }
    size_t pos = std::stoul(std::string(digits));
    if (pos > message_count) {
      return invalidArgument("noise: " + std::string(m) + " is past the last message");
    }
    if (std::find(positions.begin(), positions.end(), pos) != positions.end()) {
      return invalidArgument("noise: duplicate modifier '" + std::string(m) + "'");
    }
    positions.push_back(pos);
  }
  return positions;
}

bool contains(const std::vector<Token>& tokens, Token t) {
  return std::find(tokens.begin(), tokens.end(), t) != tokens.end();
}

}  // namespace

const char* tokenName(Token t) {
  switch (t) {
    case Token::kE: return "e";
    case Token::kS: return "s";
    case Token::kEE: return "ee";
    case Token::kES: return "es";
    case Token::kSE: return "se";
    case Token::kSS: return "ss";
    case Token::kPsk: return "psk";
  }
  return "?";
}

size_t HandshakePattern::pskCount() const {
  size_t n = 0;
  for (const auto& m : messages) n += std::count(m.begin(), m.end(), Token::kPsk);
  return n;
}

bool HandshakePattern::sendsStatic(bool initiator) const {
  if (contains(initiator ? initiator_pre : responder_pre, Token::kS)) return true;
  for (size_t i = initiator ? 0 : 1; i < messages.size(); i += 2) {
    if (contains(messages[i], Token::kS)) return true;
  }
  return false;
}

bool HandshakePattern::needsRemoteStaticUpFront(bool initiator) const {
  return contains(initiator ? responder_pre : initiator_pre, Token::kS);
}

bool HandshakePattern::needsRemoteEphemeralUpFront(bool initiator) const {
  return contains(initiator ? responder_pre : initiator_pre, Token::kE);
}

Result<ProtocolNameParts> splitProtocolName(std::string_view full_name) {
  constexpr std::string_view kPrefix = "Noise_";
  if (full_name.substr(0, kPrefix.size()) != kPrefix) {
    return invalidArgument("noise: protocol name must start with Noise_");
  }
  std::vector<std::string> parts;
  std::string_view rest = full_name.substr(kPrefix.size());
  while (true) {
    size_t end = rest.find('_');
    parts.emplace_back(rest.substr(0, end));
    if (end == std::string_view::npos) break;
    rest = rest.substr(end + 1);
  }
  if (parts.size() != 4 || std::any_of(parts.begin(), parts.end(),
                                       [](const std::string& p) { return p.empty(); })) {
    return invalidArgument("noise: protocol name needs Noise_PATTERN_DH_CIPHER_HASH");
  }
  return ProtocolNameParts{parts[0], parts[1], parts[2], parts[3]};
}

bool isSupportedSuite(const ProtocolNameParts& parts) {
  return parts.dh == "25519" && parts.cipher == "ChaChaPoly" && parts.hash == "BLAKE2b";
}

Result<HandshakePattern> lookupPattern(std::string_view pattern_with_modifiers) {
  // The base name is the leading run of upper-case letters and digits; modifiers follow.
  size_t base_len = 0;
  while (base_len < pattern_with_modifiers.size() &&
         (std::isupper(static_cast<unsigned char>(pattern_with_modifiers[base_len])) ||
          std::isdigit(static_cast<unsigned char>(pattern_with_modifiers[base_len])))) {
    ++base_len;
  }
  std::string_view base = pattern_with_modifiers.substr(0, base_len);
  const auto& table = patternTable();
  auto it = std::find_if(table.begin(), table.end(),
                         [&](const PatternSpec& p) { return p.name == base; });
  if (it == table.end()) {
    return invalidArgument("noise: unknown handshake pattern '" + std::string(base) + "'");
  }
  HandshakePattern p;
  p.name = std::string(pattern_with_modifiers);
  p.initiator_pre = parseTokens(it->initiator_pre);
  p.responder_pre = parseTokens(it->responder_pre);
  for (std::string_view m : it->messages) p.messages.push_back(parseTokens(m));

  auto psks = parsePskModifiers(pattern_with_modifiers.substr(base_len), p.messages.size());
  if (!psks.isOk()) return psks.status();
  for (size_t pos : psks.value()) {
    if (pos == 0) {
      p.messages[0].insert(p.messages[0].begin(), Token::kPsk);
    } else {
      p.messages[pos - 1].push_back(Token::kPsk);
    }
  }
  return p;
}

Result<HandshakePattern> parseProtocolName(std::string_view full_name) {
  auto parts = splitProtocolName(full_name);
  if (!parts.isOk()) return parts.status();
  if (!isSupportedSuite(parts.value())) {
    return invalidArgument("noise: unsupported suite in '" + std::string(full_name) +
                           "' (only 25519_ChaChaPoly_BLAKE2b)");
  }
  return lookupPattern(parts->pattern);
}

}  // namespace meshslice::noise
