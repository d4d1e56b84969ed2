// Why a link to or from a peer failed, in words a user can act on (`meshslice peers --all`,
// docs/CLI.md). A failed Noise handshake says "AEAD authentication failed"; what the user needs
// to hear is "different mesh secret". Pure code: it takes what the session knew when it closed.
#pragma once

#include <optional>
#include <string>

#include "base/status.h"
#include "mesh/link_error.h"

namespace meshslice {

// The goodbye reason a node sends a device it refuses for the allow-list (docs/PROTOCOL.md §6.3),
// so the refused side can say why instead of flapping.
inline constexpr char kGoodbyeNotAllowed[] = "not on the allow-list";

struct LinkFailureFacts {
  Status reason;                    // what the link closed with
  std::optional<LinkError> error;   // the reason this node closed it for, if it did
  bool connect_failed = false;      // no link at all: the transport's connect failed
  bool initiator = false;           // we dialed
  bool handshake_done = false;      // our side of the Noise handshake completed
  bool established = false;         // a valid Hello arrived
};

// "different mesh secret", "connection refused", "not on the allow-list", ... followed by the
// technical reason in parentheses when it adds something.
std::string describeLinkFailure(const LinkFailureFacts& facts);

}  // namespace meshslice
