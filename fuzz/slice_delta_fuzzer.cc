// Fuzzes the delta decoder and applySliceDelta with untrusted bytes. A message that decodes must
// be valid and survive encode -> decode unchanged; a decoded SliceDelta applied to a fixed base
// either fails with a refusal reason or yields exactly `size` bytes whose digest it names.
// Then the diff itself: the input's tail, taken as a new version of the base, must be rebuilt
// byte for byte from the ops computeDeltaOps() makes. Seeds: fuzz/corpus/slice_delta/.
#include <cstddef>
#include <cstdint>

#include "store/slice_delta.h"
#include "store/slice_tree.h"

namespace {

meshslice::Bytes fixedBase() {
  meshslice::Bytes base(4096);
  for (size_t i = 0; i < base.size(); ++i) base[i] = static_cast<uint8_t>(i * 31 + (i >> 7));
  return base;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace meshslice;
  static const Bytes base = fixedBase();
  const ByteView input(data, size);
  Result<DeltaMessage> decoded = decodeDeltaMessage(input);
  if (decoded.isOk()) {
    if (!validateDeltaMessage(*decoded).isOk()) __builtin_trap();
    Bytes wire = encodeDeltaMessage(*decoded);
    if (wire.size() > kMaxPayloadSize) __builtin_trap();
    Result<DeltaMessage> again = decodeDeltaMessage(wire);
    if (!again.isOk() || !(*again == *decoded) || encodeDeltaMessage(*again) != wire) __builtin_trap();
    if (const auto* delta = std::get_if<SliceDelta>(&*decoded)) {
      DeltaRefusal why = DeltaRefusal::kUnknownBase;
      Result<Bytes> out = applySliceDelta(base, *delta, &why);
      const auto digestOf = [&](const Bytes& v) {
        return delta->digest_kind == DeltaDigest::kTree ? sliceTree(v).root : sliceDigest(v);
      };
      if (out.isOk() && (out->size() != delta->size || digestOf(*out) != delta->digest)) __builtin_trap();
      if (!out.isOk() && why == DeltaRefusal::kUnknownBase) __builtin_trap();
    }
  }
  // The input as an edit of the base: the first byte picks where it goes.
  if (size > 0) {
    Bytes target = base;
    const size_t at = (static_cast<size_t>(data[0]) * 16) % (base.size() + 1);
    target.insert(target.begin() + static_cast<ptrdiff_t>(at), data + 1, data + size);
    if (size % 2) target.resize(target.size() - std::min(target.size(), size * 3));
    auto ops = computeDeltaOps(base, target, kMaxSliceData);
    if (!ops) __builtin_trap();
    SliceDelta d;
    d.store_id = "s";
    d.size = target.size();
    d.digest = sliceDigest(target);
    d.ops = std::move(*ops);
    Result<Bytes> rebuilt = applySliceDelta(base, d);
    if (!rebuilt.isOk() || *rebuilt != target) __builtin_trap();
    // The same as a tree-checked delta: the leaves updated from the base's are the target's.
    static const SliceTree base_tree = sliceTree(base);
    d.digest_kind = DeltaDigest::kTree;
    d.digest = sliceTree(target).root;
    SliceTree tree;
    rebuilt = applySliceDelta(base, d, nullptr, &base_tree, &tree);
    if (!rebuilt.isOk() || *rebuilt != target || tree != sliceTree(target)) __builtin_trap();
  }
  return 0;
}
