// computeDeltaOps(): the sender's side of a slice delta (store/slice_delta.h). The method and
// why it was chosen (measured against fixed blocks and content-defined chunk signatures):
// docs/STORES.md section 5.
//
// 1. The common prefix and suffix of base and target become copies (word-wise compare: one
//    edited region costs a memcmp of the data and nothing else).
// 2. In the middle, if base and target have the same length, an aligned pass: runs that are
//    equal at the same offset become copies, the rest literals (in-place edits, the common case
//    for fixed-layout data).
// 3. Otherwise (insertions, deletions, moved blocks) content-defined chunks of the base
//    middle are indexed by a hash; each target chunk found there (compared byte for byte) is
//    a match, extended byte-wise backwards and forwards, so literals are only what changed.
// Chunking is local to the sender: the wire carries only copies and literals.
#include <algorithm>
#include <array>
#include <cstring>
#include <unordered_map>

#include "store/slice_delta.h"

namespace meshslice {

namespace {

// Content-defined chunks of the middle (gear rolling hash): sizes between kChunkMin and
// kChunkMax, a boundary where the hash's low bits are zero (kChunkMask: ~256 bytes on
// average past the minimum).
constexpr size_t kChunkMin = 64;
constexpr size_t kChunkMax = 2048;
constexpr uint64_t kChunkMask = 0xff;
// The aligned pass is kept when at most this share of the middle came out as literals.
constexpr size_t kAlignedMaxLiteralPercent = 50;
// An equal run shorter than this inside a changed region stays literal (a copy op costs up to
// 11 encoded bytes and splits the literal).
constexpr size_t kMinCopy = 16;

constexpr std::array<uint64_t, 256> makeGear() {
  std::array<uint64_t, 256> t{};
  uint64_t x = 0x6d65736873736c63ULL;  // splitmix64, fixed seed: the table is a constant
  for (auto& v : t) {
    x += 0x9e3779b97f4a7c15ULL;
    uint64_t z = x;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    v = z ^ (z >> 31);
  }
  return t;
}
constexpr std::array<uint64_t, 256> kGear = makeGear();

size_t uintSize(uint64_t v) { return v <= 0x7f ? 1 : v <= 0xff ? 2 : v <= 0xffff ? 3 : v <= 0xffffffff ? 5 : 9; }
size_t binHeaderSize(size_t n) { return n <= 0xff ? 2 : n <= 0xffff ? 3 : 5; }
size_t opSize(const DeltaOp& op) {
  return op.copy ? 1 + uintSize(op.offset) + uintSize(op.length) : binHeaderSize(op.literal.size()) + op.literal.size();
}

uint64_t load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// Length of the common prefix of a[0..max) and b[0..max).
size_t commonPrefix(const uint8_t* a, const uint8_t* b, size_t max) {
  size_t i = 0;
  for (; i + 8 <= max; i += 8) {
    const uint64_t x = load64(a + i) ^ load64(b + i);
    if (x) return i + static_cast<size_t>(__builtin_ctzll(x)) / 8;  // little-endian byte order
  }
  while (i < max && a[i] == b[i]) ++i;
  return i;
}

// Length of the common suffix of the max bytes before a_end and b_end.
size_t commonSuffix(const uint8_t* a_end, const uint8_t* b_end, size_t max) {
  size_t i = 0;
  for (; i + 8 <= max; i += 8) {
    if (load64(a_end - i - 8) != load64(b_end - i - 8)) break;
  }
  while (i < max && a_end[-1 - static_cast<ptrdiff_t>(i)] == b_end[-1 - static_cast<ptrdiff_t>(i)]) ++i;
  return i;
}

uint64_t chunkHash(const uint8_t* p, size_t n) {
  uint64_t h = n * 0x9e3779b97f4a7c15ULL;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) h = (h ^ load64(p + i)) * 0xff51afd7ed558ccdULL, h ^= h >> 29;
  for (; i < n; ++i) h = (h ^ p[i]) * 0x100000001b3ULL;
  return h;
}

struct Chunk {
  size_t offset, length;
};

std::vector<Chunk> chunks(const uint8_t* p, size_t begin, size_t end) {
  std::vector<Chunk> out;
  out.reserve((end - begin) / 256 + 1);
  size_t start = begin;
  while (start < end) {
    const size_t limit = std::min(end, start + kChunkMax);
    size_t i = std::min(limit, start + kChunkMin);
    uint64_t h = 0;
    for (; i < limit; ++i) {
      h = (h << 1) + kGear[p[i]];
      if ((h & kChunkMask) == 0) {
        ++i;
        break;
      }
    }
    out.push_back({start, i - start});
    start = i;
  }
  return out;
}

// Collects ops, merging neighbours; gives up past the size or op budget.
class OpBuilder {
 public:
  explicit OpBuilder(size_t max_encoded) : max_encoded_(max_encoded) {}
  void copy(uint64_t offset, uint64_t length) {
    if (length == 0) return;
    if (!ops_.empty() && ops_.back().copy && ops_.back().offset + ops_.back().length == offset) {
      size_ -= opSize(ops_.back());
      ops_.back().length += length;
      size_ += opSize(ops_.back());
      return;
    }
    DeltaOp op;
    op.copy = true;
    op.offset = offset;
    op.length = length;
    push(std::move(op));
  }
  void literal(const uint8_t* p, size_t n) {
    if (n == 0) return;
    if (!ops_.empty() && !ops_.back().copy) {
      size_ -= opSize(ops_.back());
      ops_.back().literal.insert(ops_.back().literal.end(), p, p + n);
      size_ += opSize(ops_.back());
      return;
    }
    DeltaOp op;
    op.literal.assign(p, p + n);
    push(std::move(op));
  }
  bool over() const { return size_ > max_encoded_ || ops_.size() > kMaxDeltaOps; }
  size_t literalBudgetLeft() const { return over() ? 0 : max_encoded_ - size_; }
  std::vector<DeltaOp> take() { return std::move(ops_); }

 private:
  void push(DeltaOp op) {
    size_ += opSize(op);
    ops_.push_back(std::move(op));
  }
  size_t max_encoded_;
  size_t size_ = 3;  // the ops array header
  std::vector<DeltaOp> ops_;
};

enum class Aligned { kDone, kTooManyLiterals, kOverBudget };

// Step 2: same-offset comparison of base[begin, end) and target[begin, end).
Aligned alignedMiddle(const uint8_t* base, const uint8_t* target, size_t begin, size_t end, OpBuilder& out) {
  const size_t limit = (end - begin) * kAlignedMaxLiteralPercent / 100;
  size_t literal = 0, pos = begin;
  while (pos < end) {
    const size_t same = commonPrefix(base + pos, target + pos, end - pos);
    if (same >= kMinCopy || pos + same == end) {
      out.copy(pos, same);
      pos += same;
    }
    if (pos == end) break;
    // A changed run: up to the next kMinCopy equal bytes.
    size_t run = pos;
    while (run < end) {
      while (run < end && base[run] != target[run]) ++run;
      const size_t eq = commonPrefix(base + run, target + run, std::min(end - run, kMinCopy));
      if (eq >= kMinCopy || run + eq == end) break;
      run += eq;
    }
    out.literal(target + pos, run - pos);
    literal += run - pos;
    // Over the budget with mostly literals is a shift (an insertion, a moved block): the chunk
    // index may find it. Over the budget with copies in between is in-place editing: give up.
    if (out.over()) return literal * 4 > (run - begin) * 3 ? Aligned::kTooManyLiterals : Aligned::kOverBudget;
    if (literal > limit) return Aligned::kTooManyLiterals;
    pos = run;
  }
  return Aligned::kDone;
}

// Step 3: chunk matching for target[t_begin, t_end) against base[b_begin, b_end).
void chunkedMiddle(ByteView base, ByteView target, size_t b_begin, size_t b_end, size_t t_begin, size_t t_end,
                   OpBuilder& out) {
  const uint8_t* b = base.data();
  const uint8_t* t = target.data();
  std::unordered_map<uint64_t, size_t> index;
  const std::vector<Chunk> base_chunks = chunks(b, b_begin, b_end);
  index.reserve(base_chunks.size());
  for (const Chunk& c : base_chunks) index.emplace(chunkHash(b + c.offset, c.length), c.offset);
  size_t pos = t_begin;  // target bytes before pos are emitted
  for (const Chunk& c : chunks(t, t_begin, t_end)) {
    if (out.over()) return;
    if (c.offset < pos) continue;  // covered by the previous match's extension
    auto it = index.find(chunkHash(t + c.offset, c.length));
    if (it == index.end()) continue;
    size_t bo = it->second, to = c.offset, len = c.length;
    if (bo + len > base.size() || std::memcmp(b + bo, t + to, len) != 0) continue;
    const size_t back = commonSuffix(b + bo, t + to, std::min(to - pos, bo));
    bo -= back, to -= back, len += back;
    len += commonPrefix(b + bo + len, t + to + len, std::min(t_end - (to + len), base.size() - (bo + len)));
    out.literal(t + pos, to - pos);
    out.copy(bo, len);
    pos = to + len;
  }
  out.literal(t + pos, t_end - pos);
}

}  // namespace

size_t encodedOpsSize(const std::vector<DeltaOp>& ops) {
  size_t n = ops.size() <= 15 ? 1 : ops.size() <= 0xffff ? 3 : 5;
  for (const DeltaOp& op : ops) n += opSize(op);
  return n;
}

std::optional<std::vector<DeltaOp>> computeDeltaOps(ByteView base, ByteView target, size_t max_encoded) {
  const size_t n = target.size(), m = base.size();
  const size_t pre = commonPrefix(base.data(), target.data(), std::min(n, m));
  const size_t suf = commonSuffix(base.data() + m, target.data() + n, std::min(n, m) - pre);
  OpBuilder out(max_encoded);
  out.copy(0, pre);
  const size_t t_end = n - suf, b_end = m - suf;
  if (t_end > pre) {
    bool done = false;
    if (t_end == b_end) {
      OpBuilder aligned = out;
      switch (alignedMiddle(base.data(), target.data(), pre, t_end, aligned)) {
        case Aligned::kDone:
          out = std::move(aligned);
          done = true;
          break;
        case Aligned::kOverBudget:
          return std::nullopt;  // in-place edits over the budget: chunks would not find more
        case Aligned::kTooManyLiterals:
          break;
      }
    }
    if (!done) {
      if (b_end - pre < kChunkMin || t_end - pre < kChunkMin) {
        out.literal(target.data() + pre, t_end - pre);
      } else {
        chunkedMiddle(base, target, pre, b_end, pre, t_end, out);
      }
    }
  }
  out.copy(b_end, suf);
  if (out.over()) return std::nullopt;
  return out.take();
}

}  // namespace meshslice
