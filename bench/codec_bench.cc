// Wire codecs on the hot path of every slice update: envelopes (mesh/envelope.h), sync messages
// (store/sync_message.h), the record layer inside frames (transport/record_codec.h) and the TCP
// frame prefix (transport/frame_decoder.h). Sizes follow the end-to-end benchmark: 64 B, 1 KiB
// and 64 KiB payloads.
#include <benchmark/benchmark.h>

#include "mesh/envelope.h"
#include "store/sync_message.h"
#include "transport/frame_decoder.h"
#include "transport/record_codec.h"
#include "transport/noise_crypto.h"

namespace meshslice {
namespace {

DeviceId someDevice() { return DeviceId::fromPublicKey(noise::generateKeyPair().pub); }

SliceUpdate sliceUpdate(size_t size) {
  SliceUpdate u;
  u.store_id = "bench";
  u.slice.device_id = someDevice();
  u.slice.version = 1234567890123ull;
  u.slice.updated_at = 1700000000000;
  u.slice.data.assign(size, 0xab);
  return u;
}

void BM_EncodeSliceUpdate(benchmark::State& state) {
  const SyncMessage m = sliceUpdate(static_cast<size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(encodeSyncMessage(m));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_EncodeSliceUpdate)->Arg(64)->Arg(1024)->Arg(65536);

void BM_DecodeSliceUpdate(benchmark::State& state) {
  const Bytes wire = encodeSyncMessage(sliceUpdate(static_cast<size_t>(state.range(0))));
  for (auto _ : state) {
    auto m = decodeSyncMessage(wire);
    if (!m) state.SkipWithError("decode failed");
    benchmark::DoNotOptimize(m);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_DecodeSliceUpdate)->Arg(64)->Arg(1024)->Arg(65536);

void BM_EncodeDigest(benchmark::State& state) {
  Digest d;
  for (int64_t i = 0; i < state.range(0); ++i) d.entries.push_back({"store" + std::to_string(i % 8), someDevice(), 42});
  const SyncMessage m = d;
  for (auto _ : state) benchmark::DoNotOptimize(encodeSyncMessage(m));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_EncodeDigest)->Arg(32)->Arg(512);

void BM_DecodeDigest(benchmark::State& state) {
  Digest d;
  for (int64_t i = 0; i < state.range(0); ++i) d.entries.push_back({"store" + std::to_string(i % 8), someDevice(), 42});
  const Bytes wire = encodeSyncMessage(d);
  for (auto _ : state) benchmark::DoNotOptimize(decodeSyncMessage(wire));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_DecodeDigest)->Arg(32)->Arg(512);

// A sync message as the bus carries it: a Message envelope around the encoded SliceUpdate.
Envelope busMessage(size_t size) {
  BusMessage m;
  m.ns = std::string(kSyncNamespace);
  m.payload = encodeSyncMessage(sliceUpdate(size));
  return m;
}

void BM_EncodeEnvelope(benchmark::State& state) {
  const Envelope e = busMessage(static_cast<size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(encodeEnvelope(e));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_EncodeEnvelope)->Arg(64)->Arg(1024)->Arg(65536);

void BM_DecodeEnvelope(benchmark::State& state) {
  const Bytes wire = encodeEnvelope(busMessage(static_cast<size_t>(state.range(0))));
  for (auto _ : state) {
    auto e = decodeEnvelope(wire);
    if (!e) state.SkipWithError("decode failed");
    benchmark::DoNotOptimize(e);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_DecodeEnvelope)->Arg(64)->Arg(1024)->Arg(65536);

void BM_EncodeHeartbeat(benchmark::State& state) {
  const Envelope e = Heartbeat{123456};
  for (auto _ : state) benchmark::DoNotOptimize(encodeEnvelope(e));
}
BENCHMARK(BM_EncodeHeartbeat);

// Messages of `size` bytes appended to the record writer and cut into frame plaintexts.
void BM_RecordWriterFrames(benchmark::State& state) {
  const Bytes message(static_cast<size_t>(state.range(0)), 0x5a);
  RecordWriter w;
  for (auto _ : state) {
    w.append(message);
    while (!w.empty()) {
      ByteView f = w.nextFrame();
      benchmark::DoNotOptimize(f.data());
      w.consume(f.size());
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_RecordWriterFrames)->Arg(64)->Arg(1024)->Arg(65536);

// 1 KiB messages batched 32 to a frame, as a burst of updates within one loop turn.
void BM_RecordWriterBatch32(benchmark::State& state) {
  const Bytes message(1024, 0x5a);
  RecordWriter w;
  for (auto _ : state) {
    for (int i = 0; i < 32; ++i) w.append(message);
    while (!w.empty()) {
      ByteView f = w.nextFrame();
      benchmark::DoNotOptimize(f.data());
      w.consume(f.size());
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * 32);
}
BENCHMARK(BM_RecordWriterBatch32);

void BM_RecordReader(benchmark::State& state) {
  const Bytes message(static_cast<size_t>(state.range(0)), 0x5a);
  RecordWriter w;
  w.append(message);
  std::vector<Bytes> frames;
  while (!w.empty()) {
    ByteView f = w.nextFrame();
    frames.emplace_back(f.begin(), f.end());
    w.consume(f.size());
  }
  RecordReader r(2 * 1024 * 1024);
  for (auto _ : state) {
    for (const Bytes& f : frames) {
      Status st = r.feed(f, [](ByteView m) {
        benchmark::DoNotOptimize(m.data());
        return true;
      });
      if (!st.isOk()) state.SkipWithError("feed failed");
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_RecordReader)->Arg(64)->Arg(1024)->Arg(65536);

void BM_AppendFrame(benchmark::State& state) {
  const Bytes body(static_cast<size_t>(state.range(0)), 0x11);
  Bytes out;
  for (auto _ : state) {
    out.clear();
    appendFrame(out, body);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_AppendFrame)->Arg(64)->Arg(1024)->Arg(65535);

// A read of 64 KiB of stream bytes (at least 4 frames) holding back-to-back frames of `size` bytes.
void BM_FrameDecoder(benchmark::State& state) {
  const size_t size = static_cast<size_t>(state.range(0));
  const Bytes body(size, 0x22);
  Bytes stream;
  size_t frames = 0;
  while (frames < 4 || stream.size() + kFrameHeaderSize + size <= 64 * 1024) {
    appendFrame(stream, body);
    ++frames;
  }
  FrameDecoder d(kMaxFrameBody);
  for (auto _ : state) {
    Status st = d.feed(stream, [](ByteView f) {
      benchmark::DoNotOptimize(f.data());
      return true;
    });
    if (!st.isOk()) state.SkipWithError("feed failed");
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * frames));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * stream.size()));
}
BENCHMARK(BM_FrameDecoder)->Arg(64)->Arg(1024)->Arg(65535);

}  // namespace
}  // namespace meshslice

BENCHMARK_MAIN();
