#include "mesh/link_error.h"

namespace meshslice {

const char* linkErrorName(LinkError error) {
  switch (error) {
    case LinkError::kHandshakeTimeout: return "handshake-timeout";
    case LinkError::kHandshakeOversized: return "handshake-oversized";
    case LinkError::kHandshakeRejected: return "handshake-rejected";
    case LinkError::kFrameRejected: return "frame-rejected";
    case LinkError::kRecordMalformed: return "record-malformed";
    case LinkError::kMessageTooLarge: return "message-too-large";
    case LinkError::kBadEnvelope: return "bad-envelope";
    case LinkError::kHelloMissing: return "hello-missing";
    case LinkError::kHelloRepeated: return "hello-repeated";
    case LinkError::kHelloIdMismatch: return "hello-id-mismatch";
    case LinkError::kIncompatible: return "incompatible-version";
    case LinkError::kNotAllowed: return "not-allowed";
    case LinkError::kSelfConnection: return "self-connection";
    case LinkError::kCount: break;
  }
  return "?";
}

Code linkErrorCode(LinkError error) {
  switch (error) {
    case LinkError::kHandshakeTimeout: return Code::kTimeout;
    case LinkError::kHandshakeOversized:
    case LinkError::kMessageTooLarge: return Code::kTooLarge;
    case LinkError::kHandshakeRejected:
    case LinkError::kFrameRejected:
    case LinkError::kHelloIdMismatch: return Code::kAuthFailed;
    case LinkError::kRecordMalformed:
    case LinkError::kBadEnvelope:
    case LinkError::kHelloMissing:
    case LinkError::kHelloRepeated: return Code::kMalformed;
    case LinkError::kIncompatible: return Code::kIncompatible;
    case LinkError::kNotAllowed: return Code::kPermissionDenied;
    case LinkError::kSelfConnection: return Code::kInvalidArgument;
    case LinkError::kCount: break;
  }
  return Code::kInternal;
}

bool isProtocolViolation(LinkError error) {
  switch (error) {
    case LinkError::kHandshakeOversized:
    case LinkError::kHandshakeRejected:
    case LinkError::kFrameRejected:
    case LinkError::kRecordMalformed:
    case LinkError::kMessageTooLarge:
    case LinkError::kBadEnvelope:
    case LinkError::kHelloMissing:
    case LinkError::kHelloRepeated:
    case LinkError::kHelloIdMismatch: return true;
    default: return false;
  }
}

std::optional<LinkError> linkErrorOf(ChannelFailure failure) {
  switch (failure) {
    case ChannelFailure::kHandshakeTimeout: return LinkError::kHandshakeTimeout;
    case ChannelFailure::kHandshakeOversized: return LinkError::kHandshakeOversized;
    case ChannelFailure::kHandshakeRejected: return LinkError::kHandshakeRejected;
    case ChannelFailure::kFrameRejected: return LinkError::kFrameRejected;
    case ChannelFailure::kRecordMalformed: return LinkError::kRecordMalformed;
    case ChannelFailure::kMessageTooLarge: return LinkError::kMessageTooLarge;
    case ChannelFailure::kNone:
    case ChannelFailure::kSendFailed: return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace meshslice
