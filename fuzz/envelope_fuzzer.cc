// Fuzzes decodeEnvelope with untrusted bytes. Any envelope that decodes must be valid and
// survive encode -> decode unchanged. The receive path's in-place parser of Message envelopes
// (parseMessageEnvelope) must accept only what decodeEnvelope accepts, as the same message.
// Seeds: fuzz/corpus/envelope/ (the golden vectors).
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "mesh/envelope.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace meshslice;
  Result<Envelope> decoded = decodeEnvelope(ByteView(data, size));
  if (auto view = parseMessageEnvelope(ByteView(data, size))) {
    const auto* m = decoded.isOk() ? std::get_if<BusMessage>(&*decoded) : nullptr;
    if (!m || m->ns != view->ns || !std::equal(m->payload.begin(), m->payload.end(), view->payload.begin(), view->payload.end()))
      __builtin_trap();
  }
  if (!decoded.isOk()) return 0;
  if (!validateEnvelope(*decoded).isOk()) __builtin_trap();
  Bytes wire = encodeEnvelope(*decoded);
  if (wire.size() > kMaxMessageSize) __builtin_trap();
  Result<Envelope> again = decodeEnvelope(wire);
  if (!again.isOk() || !(*again == *decoded)) __builtin_trap();
  // Canonical: re-encoding the re-decoded value gives the same bytes.
  if (encodeEnvelope(*again) != wire) __builtin_trap();
  return 0;
}
