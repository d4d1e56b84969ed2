#include "mesh/link_diagnosis.h"

namespace meshslice {
namespace {

std::string withDetail(const std::string& words, const Status& reason) {
  if (reason.isOk() || reason.message().empty()) return words;
  return words + " (" + reason.message() + ")";
}

// Words for a failure this node detected itself.
std::optional<std::string> ownVerdict(LinkError error) {
  switch (error) {
    // XXpsk3 mixes the PSK into the third handshake message: only a responder can see a wrong
    // secret, as a failed AEAD tag on that message.
    case LinkError::kHandshakeRejected: return "different mesh secret (or a damaged handshake)";
    case LinkError::kHandshakeTimeout: return "handshake timed out (not a meshslice node, or it is overloaded)";
    case LinkError::kHandshakeOversized: return "not a meshslice node (oversized handshake)";
    case LinkError::kIncompatible: return "incompatible protocol version";
    case LinkError::kNotAllowed: return "not on the allow-list";
    case LinkError::kSelfConnection: return "this is our own address";
    default: return std::nullopt;  // protocol violations: the technical name says it best
  }
}

}  // namespace

std::string describeLinkFailure(const LinkFailureFacts& f) {
  if (f.error) {
    if (auto words = ownVerdict(*f.error)) return withDetail(*words, f.reason);
    return withDetail(std::string("protocol error: ") + linkErrorName(*f.error), f.reason);
  }
  const std::string& msg = f.reason.message();
  if (msg.find(kGoodbyeNotAllowed) != std::string::npos) return "the peer refused us: not on its allow-list";
  if (msg.find("connection refused") != std::string::npos) return "connection refused (nothing listens there)";
  if (f.connect_failed) return withDetail(f.reason.code() == Code::kTimeout ? "no answer" : "cannot connect", f.reason);
  // Our last handshake message went out, and the responder closed the link without a word:
  // that is how a responder with another PSK (mesh secret) reacts to it.
  if (f.initiator && f.handshake_done && !f.established) return "different mesh secret (the peer closed the link after our handshake)";
  if (!f.handshake_done) return withDetail("closed during the handshake", f.reason);
  return withDetail("link closed", f.reason);
}

}  // namespace meshslice
