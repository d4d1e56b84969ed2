// Codec throughput on a real avahi service announcement (tests/data/mdns/), plus encoding and
// the querier's handling of the parsed message.
#include <benchmark/benchmark.h>

#include <fstream>
#include <iterator>

#include "mesh/dns_message.h"
#include "mesh/mdns_querier.h"

#ifndef MESHSLICE_TEST_DATA_DIR
#define MESHSLICE_TEST_DATA_DIR "tests/data"
#endif

namespace meshslice {
namespace {

Bytes announcement() {
  std::ifstream f(std::string(MESHSLICE_TEST_DATA_DIR) + "/mdns/avahi_announce_service.bin",
                  std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

void BM_ParseAvahiAnnouncement(benchmark::State& state) {
  Bytes wire = announcement();
  if (wire.empty()) {
    state.SkipWithError("capture not found: set MESHSLICE_TEST_DATA_DIR");
    return;
  }
  for (auto _ : state) {
    auto m = parseDnsMessage(wire);
    benchmark::DoNotOptimize(m);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * wire.size()));
}
BENCHMARK(BM_ParseAvahiAnnouncement);

void BM_WriteAvahiAnnouncement(benchmark::State& state) {
  auto m = parseDnsMessage(announcement());
  if (!m) {
    state.SkipWithError("capture not found");
    return;
  }
  for (auto _ : state) {
    auto wire = writeDnsMessage(m.value());
    benchmark::DoNotOptimize(wire);
  }
}
BENCHMARK(BM_WriteAvahiAnnouncement);

void BM_QuerierHandlesAnnouncement(benchmark::State& state) {
  auto m = parseDnsMessage(announcement());
  if (!m) {
    state.SkipWithError("capture not found");
    return;
  }
  MdnsQuerier q(MdnsBrowseConfig{mdns::kServiceType, "OURS0001", "interop", "eth0"}, 1);
  Micros now = 1000 * kSeconds;
  for (auto _ : state) {
    q.onMessage(m.value(), now += kMillis);
    benchmark::DoNotOptimize(q.takeEvents());
  }
}
BENCHMARK(BM_QuerierHandlesAnnouncement);

}  // namespace
}  // namespace meshslice

BENCHMARK_MAIN();
