// The measurement behind the choice of delta method (docs/STORES.md section 5): three ways for
// the owner of a slice to describe a new version against one the peer holds, on the same edits.
//
//   blocks-1K / blocks-4K  fixed blocks: the sender keeps a 64-bit hash per block of the base;
//                          changed blocks go as literals, unchanged ones as copies
//   cdc-sig                content-defined chunks (gear hash, 256 B..4 KiB, ~1 KiB): the sender
//                          keeps (hash, offset, length) per chunk of the base; target chunks
//                          found there are copies, the others literals (rsync/Syncthing-like)
//   diff                   computeDeltaOps (store/slice_diff.cc): the sender keeps the base
//                          data; prefix/suffix, an aligned pass, chunk anchors extended byte-wise
//
// Per method and edit: bytes of the encoded ops, microseconds to compute them (median of
// repeats, one core), and the sender's memory per kept base version. Edits: 1 byte, 1 % and
// 50 % of the 64-byte blocks rewritten (the benchmark's cells), 100 bytes inserted, 100 bytes
// deleted, a 4 KiB block moved. Plain program (no Google Benchmark runner): `delta_bench`.
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "store/slice_delta.h"

namespace meshslice {
namespace {

uint64_t hash64(const uint8_t* p, size_t n) {
  uint64_t h = 0xcbf29ce484222325ULL ^ n;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    h = (h ^ w) * 0xff51afd7ed558ccdULL;
    h ^= h >> 29;
  }
  for (; i < n; ++i) h = (h ^ p[i]) * 0x100000001b3ULL;
  return h;
}

constexpr size_t kCopyOp = 11;  // worst-case encoded copy op; literal = 3 + bytes

struct Cost {
  size_t bytes = 0;
  double us = 0;
  size_t memory = 0;
};

template <typename F>
double medianUs(F&& f, int reps) {
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    auto a = std::chrono::steady_clock::now();
    f();
    t.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - a).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

// Fixed blocks: the signature is computed when the base is kept (not timed: once per version).
Cost fixedBlocks(const Bytes& base, const Bytes& target, size_t block, int reps) {
  std::vector<uint64_t> sig;
  for (size_t o = 0; o < base.size(); o += block) sig.push_back(hash64(base.data() + o, std::min(block, base.size() - o)));
  Cost c;
  c.memory = sig.size() * 8;
  c.us = medianUs([&] {
    size_t bytes = 0;
    bool copying = false;
    for (size_t o = 0, i = 0; o < target.size(); o += block, ++i) {
      const size_t n = std::min(block, target.size() - o);
      const bool same = i < sig.size() && hash64(target.data() + o, n) == sig[i];
      if (same && !copying) bytes += kCopyOp;
      if (!same) bytes += 3 + n;
      copying = same;
    }
    c.bytes = bytes;
  }, reps);
  return c;
}

std::array<uint64_t, 256> gearTable() {
  std::array<uint64_t, 256> t{};
  std::mt19937_64 rng(1);
  for (auto& v : t) v = rng();
  return t;
}

std::vector<std::pair<size_t, size_t>> cdc(const Bytes& d) {
  static const auto gear = gearTable();
  std::vector<std::pair<size_t, size_t>> out;
  size_t start = 0;
  while (start < d.size()) {
    const size_t limit = std::min(d.size(), start + 4096);
    size_t i = std::min(limit, start + 256);
    uint64_t h = 0;
    for (; i < limit; ++i) {
      h = (h << 1) + gear[d[i]];
      if ((h & 0x3ff) == 0) {
        ++i;
        break;
      }
    }
    out.push_back({start, i - start});
    start = i;
  }
  return out;
}

Cost cdcSignatures(const Bytes& base, const Bytes& target, int reps) {
  std::unordered_map<uint64_t, size_t> sig;
  for (auto [o, n] : cdc(base)) sig.emplace(hash64(base.data() + o, n), o);
  Cost c;
  c.memory = sig.size() * 24;
  c.us = medianUs([&] {
    size_t bytes = 0, next_base = SIZE_MAX;
    for (auto [o, n] : cdc(target)) {
      auto it = sig.find(hash64(target.data() + o, n));
      if (it == sig.end()) {
        bytes += 3 + n;
        next_base = SIZE_MAX;
      } else {
        if (it->second != next_base) bytes += kCopyOp;
        next_base = it->second + n;
      }
    }
    c.bytes = bytes;
  }, reps);
  return c;
}

Cost diff(const Bytes& base, const Bytes& target, int reps) {
  Cost c;
  c.memory = base.size();
  c.us = medianUs([&] {
    auto ops = computeDeltaOps(base, target, kMaxSliceData * 2);
    c.bytes = ops ? encodedOpsSize(*ops) : 0;
  }, reps);
  return c;
}

Bytes edited(Bytes v, const std::string& kind, std::mt19937_64& rng) {
  if (kind == "1B") {
    v[rng() % v.size()] ^= 0x5a;
  } else if (kind == "1%" || kind == "50%") {
    const size_t blocks = v.size() / 64, k = std::max<size_t>(1, blocks * (kind == "1%" ? 1 : 50) / 100);
    std::vector<size_t> order(blocks);
    for (size_t i = 0; i < blocks; ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), rng);
    for (size_t i = 0; i < k; ++i)
      for (size_t j = 0; j < 64; ++j) v[order[i] * 64 + j] = static_cast<uint8_t>(rng());
  } else if (kind == "ins100") {
    Bytes ins(100);
    for (auto& b : ins) b = static_cast<uint8_t>(rng());
    v.insert(v.begin() + static_cast<ptrdiff_t>(rng() % v.size()), ins.begin(), ins.end());
  } else if (kind == "del100") {
    const size_t at = rng() % (v.size() - 100);
    v.erase(v.begin() + static_cast<ptrdiff_t>(at), v.begin() + static_cast<ptrdiff_t>(at + 100));
  } else if (kind == "move4K") {
    const size_t at = 4096 + rng() % (v.size() - 8192);
    Bytes block(v.begin() + static_cast<ptrdiff_t>(at), v.begin() + static_cast<ptrdiff_t>(at + 4096));
    v.erase(v.begin() + static_cast<ptrdiff_t>(at), v.begin() + static_cast<ptrdiff_t>(at + 4096));
    v.insert(v.begin(), block.begin(), block.end());
  }
  return v;
}

}  // namespace
}  // namespace meshslice

int main() {
  using namespace meshslice;
  std::mt19937_64 rng(20);
  std::printf("%-8s %-7s | %-22s | %-22s | %-22s | %-22s | %s\n", "size", "edit", "blocks-1K B / us", "blocks-4K B / us",
              "cdc-sig B / us", "diff B / us", "BLAKE2b-256 of the target, us");
  for (size_t size : {size_t{65536}, size_t{1024 * 1024}}) {
    Bytes base(size);
    for (auto& b : base) b = static_cast<uint8_t>(rng());
    const int reps = size > 65536 ? 9 : 41;
    Cost mem1{}, mem4{}, memc{}, memd{};
    for (const std::string kind : {"1B", "1%", "50%", "ins100", "del100", "move4K"}) {
      const Bytes target = edited(base, kind, rng);
      const Cost b1 = fixedBlocks(base, target, 1024, reps), b4 = fixedBlocks(base, target, 4096, reps);
      const Cost cs = cdcSignatures(base, target, reps), df = diff(base, target, reps);
      const double hash_us = medianUs([&] { (void)sliceDigest(target); }, reps);
      std::printf("%-8zu %-7s | %9zu / %9.1f | %9zu / %9.1f | %9zu / %9.1f | %9zu / %9.1f | %.1f\n", size, kind.c_str(),
                  b1.bytes, b1.us, b4.bytes, b4.us, cs.bytes, cs.us, df.bytes, df.us, hash_us);
      mem1 = b1, mem4 = b4, memc = cs, memd = df;
    }
    std::printf("%-8zu sender memory per kept base: blocks-1K %zu B, blocks-4K %zu B, cdc-sig %zu B, diff %zu B\n", size,
                mem1.memory, mem4.memory, memc.memory, memd.memory);
  }
  return 0;
}
