#include "base/status.h"

namespace meshslice {

const char* codeName(Code code) {
  switch (code) {
    case Code::kOk: return "ok";
    case Code::kInvalidArgument: return "invalid-argument";
    case Code::kMalformed: return "malformed";
    case Code::kTooLarge: return "too-large";
    case Code::kNotFound: return "not-found";
    case Code::kAlreadyExists: return "already-exists";
    case Code::kBusy: return "busy";
    case Code::kClosed: return "closed";
    case Code::kTimeout: return "timeout";
    case Code::kAuthFailed: return "auth-failed";
    case Code::kPermissionDenied: return "permission-denied";
    case Code::kIncompatible: return "incompatible";
    case Code::kIo: return "io";
    case Code::kInternal: return "internal";
    case Code::kWrongThread: return "wrong-thread";
  }
  return "unknown";
}

std::string Status::toString() const {
  if (isOk()) return "ok";
  std::string out = codeName(code_);
  if (!message_.empty()) {
    out += ": ";
    out += message_;
  }
  return out;
}

}  // namespace meshslice
