#include "store/remote_trees.h"

namespace meshslice {

const SliceTree* RemoteTrees::find(const std::string& store, const DeviceId& owner, uint64_t version,
                                   uint64_t incarnation) {
  auto it = trees_.find(Key(store, owner));
  if (it == trees_.end() || it->second.version != version || it->second.incarnation != incarnation) return nullptr;
  it->second.used = ++clock_;
  return &it->second.tree;
}

void RemoteTrees::put(const std::string& store, const DeviceId& owner, uint64_t version, uint64_t incarnation,
                      SliceTree tree) {
  drop(store, owner);
  if (tree.memoryBytes() > kMaxRemoteTreeBytes) return;
  bytes_ += tree.memoryBytes();
  trees_[Key(store, owner)] = Entry{version, incarnation, std::move(tree), ++clock_};
  while (bytes_ > kMaxRemoteTreeBytes) {
    auto oldest = trees_.begin();
    for (auto it = trees_.begin(); it != trees_.end(); ++it)
      if (it->second.used < oldest->second.used) oldest = it;
    erase(oldest);
  }
}

void RemoteTrees::drop(const std::string& store, const DeviceId& owner) {
  auto it = trees_.find(Key(store, owner));
  if (it != trees_.end()) erase(it);
}

void RemoteTrees::dropStore(const std::string& store) {
  for (auto it = trees_.lower_bound(Key(store, DeviceId())); it != trees_.end() && it->first.first == store;)
    erase(it++);
}

void RemoteTrees::clear() {
  trees_.clear();
  bytes_ = 0;
}

void RemoteTrees::erase(std::map<Key, Entry>::iterator it) {
  bytes_ -= it->second.tree.memoryBytes();
  trees_.erase(it);
}

}  // namespace meshslice
