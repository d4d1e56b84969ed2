// noise_vectors <file.json>...: runs cacophony-format Noise test vectors against our
// implementation. Prints one line per failing vector, then "N passed, M failed" (plus
// ", K skipped" for vectors of other suites). Exit status 0 only when nothing failed and at
// least one vector passed.
#include <cstdio>

#include "transport/noise_vectors.h"

int main(int argc, char** argv) {
  using meshslice::noise::VectorSummary;
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s <vectors.json>...\n", argv[0]);
    return 2;
  }
  VectorSummary total;
  bool io_error = false;
  for (int i = 1; i < argc; ++i) {
    auto result = meshslice::noise::runNoiseVectorFile(argv[i]);
    if (!result.isOk()) {
      std::fprintf(stderr, "%s: %s\n", argv[i], result.status().toString().c_str());
      io_error = true;
      continue;
    }
    for (const auto& f : result->failures) std::printf("FAIL %s\n", f.c_str());
    total.add(result.value());
  }
  std::printf("%s\n", total.line().c_str());
  return (total.allPassed() && !io_error) ? 0 : 1;
}
