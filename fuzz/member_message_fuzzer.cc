// Fuzzes decodeMemberMessage with untrusted bytes. Any message that decodes must be valid and
// survive encode -> decode unchanged, with a canonical encoding. Seeds: fuzz/corpus/member_message/
// (the golden vectors of tests/mesh/member_message_test.cc).
#include <cstddef>
#include <cstdint>

#include "mesh/member_message.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace meshslice;
  Result<MemberMessage> decoded = decodeMemberMessage(ByteView(data, size));
  if (!decoded.isOk()) return 0;
  if (!validateMemberMessage(*decoded).isOk()) __builtin_trap();
  Bytes wire = encodeMemberMessage(*decoded);
  if (wire.size() > kMaxMemberMessageSize) __builtin_trap();
  Result<MemberMessage> again = decodeMemberMessage(wire);
  if (!again.isOk() || !(*again == *decoded)) __builtin_trap();
  if (encodeMemberMessage(*again) != wire) __builtin_trap();
  return 0;
}
