#include "store/delta_bases.h"

#include <algorithm>

namespace meshslice {

void DeltaBases::retain(const std::string& store, uint64_t version, Data data, const std::vector<uint64_t>& held) {
  if (!data || data->size() < kMinDeltaSliceSize) return;
  auto& kept = kept_[store];
  for (Kept& k : kept)
    if (k.version == version) {
      k.used = ++clock_;
      return;
    }
  Tree tree;
  if (auto t = trees_.find(store); t != trees_.end() && t->second.first == version) tree = t->second.second;
  kept.push_back({version, std::move(data), std::move(tree), ++clock_});
  bytes_ += kept.back().bytes();
  while (kept.size() > kDeltaBasesPerStore) {
    auto victim = kept.begin();  // the oldest, unless a peer holds it and another is free
    for (auto it = kept.begin(); it != kept.end(); ++it)
      if (std::find(held.begin(), held.end(), it->version) == held.end()) {
        victim = it;
        break;
      }
    bytes_ -= victim->bytes();
    kept.erase(victim);
  }
  evictOverBudget();
}

DeltaBases::Data DeltaBases::find(const std::string& store, uint64_t version) {
  auto it = kept_.find(store);
  if (it == kept_.end()) return nullptr;
  for (Kept& k : it->second)
    if (k.version == version) {
      k.used = ++clock_;
      return k.data;
    }
  return nullptr;
}

const SliceDigest& DeltaBases::digestOf(const std::string& store, uint64_t version, ByteView data) {
  auto [it, inserted] = digests_.try_emplace(store);
  if (inserted || it->second.first != version) it->second = {version, sliceDigest(data)};
  return it->second.second;
}

const SliceTree& DeltaBases::treeOf(const std::string& store, uint64_t version, ByteView data, uint64_t base,
                                   const std::vector<DeltaOp>& ops) {
  auto [it, inserted] = trees_.try_emplace(store);
  if (!inserted && it->second.first == version && it->second.second) return *it->second.second;
  const SliceTree* base_tree = nullptr;
  if (auto k = kept_.find(store); k != kept_.end())
    for (const Kept& kept : k->second)
      if (kept.version == base) base_tree = kept.tree.get();
  Tree tree = std::make_shared<const SliceTree>(base_tree ? sliceTreeAfter(*base_tree, data, ops) : sliceTree(data));
  it->second = {version, std::move(tree)};
  evictOverBudget();
  return *it->second.second;
}

void DeltaBases::noDelta(const std::string& store, uint64_t base, uint64_t version) {
  auto& [v, bases] = no_delta_[store];
  if (v != version) v = version, bases.clear();
  if (bases.size() < 2 * kDeltaBasesPerStore) bases.push_back(base);
}

bool DeltaBases::knownNoDelta(const std::string& store, uint64_t base, uint64_t version) const {
  auto it = no_delta_.find(store);
  if (it == no_delta_.end() || it->second.first != version) return false;
  const auto& failed = it->second.second;
  return failed.size() >= kMaxFailedDiffsPerVersion || std::find(failed.begin(), failed.end(), base) != failed.end();
}

void DeltaBases::forgetStore(const std::string& store) {
  auto it = kept_.find(store);
  if (it != kept_.end()) {
    for (const Kept& k : it->second) bytes_ -= k.bytes();
    kept_.erase(it);
  }
  digests_.erase(store);
  trees_.erase(store);
  no_delta_.erase(store);
}

void DeltaBases::clear() {
  kept_.clear();
  digests_.clear();
  trees_.clear();
  no_delta_.clear();
  bytes_ = 0;
}

size_t DeltaBases::versions() const {
  size_t n = 0;
  for (const auto& [store, kept] : kept_) n += kept.size();
  return n;
}

void DeltaBases::evictOverBudget() {
  while (bytes_ > kMaxDeltaBaseBytes) {
    std::deque<Kept>* oldest_store = nullptr;
    size_t oldest = 0;
    for (auto& [store, kept] : kept_)
      for (size_t i = 0; i < kept.size(); ++i)
        if (!oldest_store || kept[i].used < (*oldest_store)[oldest].used) oldest_store = &kept, oldest = i;
    if (!oldest_store) return;
    bytes_ -= (*oldest_store)[oldest].bytes();
    oldest_store->erase(oldest_store->begin() + static_cast<ptrdiff_t>(oldest));
  }
}

}  // namespace meshslice
