// Runs Noise known-answer vectors in the cacophony JSON format ({"vectors": [...]}) against
// HandshakeState and CipherState: both parties, every handshake message compared to
// "ciphertext", the handshake hash, then the transport messages (alternating directions for
// interactive patterns, all initiator->responder for one-way ones). Used by the noise_vectors
// tool (tools/noise_vectors.cc, ctest noise_vectors.cacophony) and, in-process, by
// tests/transport/noise_vectors_test.cc. Stateless; any thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace meshslice::noise {

struct VectorSummary {
  size_t passed = 0;
  size_t failed = 0;
  size_t skipped = 0;  // vectors for another DH/cipher/hash suite
  std::vector<std::string> failures;  // "<protocol name>: <reason>", one per failed vector

  void add(const VectorSummary& other);
  // "N passed, M failed", plus ", K skipped" when K > 0.
  std::string line() const;
  bool allPassed() const { return failed == 0 && passed > 0; }
};

// kMalformed when the text is not JSON of the expected shape; a bad individual vector counts
// as a failure, not an error.
Result<VectorSummary> runNoiseVectorsJson(std::string_view json_text);
// kIo when the file cannot be read, otherwise as runNoiseVectorsJson.
Result<VectorSummary> runNoiseVectorFile(const std::string& path);

}  // namespace meshslice::noise
