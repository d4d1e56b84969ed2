// Slice apply: what a node does per received update once the envelope is decoded, for a raw
// byte store and a msgpack-typed store, plus the local write path (set()). Sizes: 64 B, 1 KiB,
// 64 KiB.
#include <benchmark/benchmark.h>

#include "store/slice_table.h"
#include "store/sync_message.h"
#include "store/synced_store.h"
#include "transport/noise_crypto.h"

namespace meshslice {
namespace {

DeviceId someDevice() { return DeviceId::fromPublicKey(noise::generateKeyPair().pub); }

struct Point {
  std::string label;
  std::vector<uint8_t> blob;
  uint64_t counter = 0;
  MSGPACK_DEFINE(label, blob, counter);
};

void BM_SliceTablePutRemote(benchmark::State& state) {
  SliceTable table(someDevice());
  DeviceSlice s{someDevice(), 0, 1700000000000, Bytes(static_cast<size_t>(state.range(0)), 7)};
  for (auto _ : state) {
    ++s.version;
    if (!table.isNewer(s)) state.SkipWithError("not newer");
    table.putRemote(s);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_SliceTablePutRemote)->Arg(64)->Arg(1024)->Arg(65536);

void BM_RawStoreApply(benchmark::State& state) {
  RawStore store("bench", someDevice());
  auto handle = store.listen([](const RawStore::Event& e) { benchmark::DoNotOptimize(&e); });
  DeviceSlice s{someDevice(), 0, 1700000000000, Bytes(static_cast<size_t>(state.range(0)), 7)};
  for (auto _ : state) {
    ++s.version;
    if (store.applyRemoteSlice(s) != ApplyResult::kApplied) state.SkipWithError("not applied");
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_RawStoreApply)->Arg(64)->Arg(1024)->Arg(65536);

void BM_TypedStoreApply(benchmark::State& state) {
  SyncedStore<Point> store("bench", someDevice());
  auto handle = store.listen([](const SyncedStore<Point>::Event& e) { benchmark::DoNotOptimize(&e); });
  Point p{"sensor", std::vector<uint8_t>(static_cast<size_t>(state.range(0)), 7), 1};
  DeviceSlice s{someDevice(), 0, 1700000000000, MsgpackCodec<Point>::encode(p).value()};
  for (auto _ : state) {
    ++s.version;
    if (store.applyRemoteSlice(s) != ApplyResult::kApplied) state.SkipWithError("not applied");
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_TypedStoreApply)->Arg(64)->Arg(1024)->Arg(65536);

// The receive path below the bus: decode the sync message, then apply it.
void BM_DecodeAndApply(benchmark::State& state) {
  RawStore store("bench", someDevice());
  SliceUpdate u{"bench", DeviceSlice{someDevice(), 0, 1700000000000, Bytes(static_cast<size_t>(state.range(0)), 7)}};
  std::vector<Bytes> wires;
  for (int i = 0; i < 1024; ++i) {
    ++u.slice.version;
    wires.push_back(encodeSyncMessage(u));
  }
  size_t i = 0;
  uint64_t base = 0;
  for (auto _ : state) {
    if (i == wires.size()) {
      state.PauseTiming();
      base += wires.size();
      wires.clear();
      for (int j = 0; j < 1024; ++j) {
        ++u.slice.version;
        wires.push_back(encodeSyncMessage(u));
      }
      i = 0;
      state.ResumeTiming();
    }
    auto m = decodeSyncMessage(wires[i++]);
    if (!m || store.applyRemoteSlice(std::get<SliceUpdate>(m.value()).slice) != ApplyResult::kApplied)
      state.SkipWithError("not applied");
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_DecodeAndApply)->Arg(64)->Arg(1024)->Arg(65536);

void BM_RawStoreSet(benchmark::State& state) {
  RawStore store("bench", someDevice());
  const Bytes value(static_cast<size_t>(state.range(0)), 9);
  for (auto _ : state) {
    if (!store.set(value).isOk()) state.SkipWithError("set failed");
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_RawStoreSet)->Arg(64)->Arg(1024)->Arg(65536);

}  // namespace
}  // namespace meshslice

BENCHMARK_MAIN();
