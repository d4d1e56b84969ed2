// Slice deltas through StoreSyncAdapter (docs/STORES.md section 5): nodes over the in-memory
// transport and one FakeEnv, each with a RawStore "doc" holding large random values.
#include <gtest/gtest.h>

#include <random>

#include "store/slice_tree.h"
#include "store/store_sync_adapter.h"
#include "store/synced_store.h"
#include "tests/support/mesh_harness.h"

namespace meshslice {
namespace {

using test::MeshHarness;
using test::TestNode;

struct DeltaNode {
  TestNode* node = nullptr;
  AdapterOptions options;
  std::unique_ptr<RawStore> store;
  std::unique_ptr<StoreSyncAdapter> adapter;  // destroyed before the store
  const DeviceId& id() const { return node->id(); }
  const SyncStats& stats() const { return adapter->stats(); }
};

// Nodes that dial every earlier one. `old_build`: a version 2 peer (no "delta" capability, the
// version 2 sync forms). `no_tree`: a version 3 peer of the build before tree digests ("delta"
// but not "delta-tree": it gets type 6 deltas only).
class DeltaCluster {
 public:
  ~DeltaCluster() {
    for (auto& n : nodes) n->adapter.reset();
  }
  DeltaNode& add(bool old_build = false, bool no_tree = false) {
    std::vector<std::string> dial;
    for (auto& n : h.nodes) dial.push_back(n->address);
    MeshOptions mo;
    AdapterOptions ao;
    if (old_build) {
      mo.capabilities = {"bus", "rpc", "sync"};
      ao.max_protocol_version = 2;
    }
    if (no_tree) {
      mo.capabilities = {"bus", "rpc", "sync", "delta"};
      ao.tree_digests = false;
    }
    auto dn = std::make_unique<DeltaNode>();
    dn->node = &h.addNode(mo, dial);
    dn->options = ao;
    attach(*dn);
    nodes.push_back(std::move(dn));
    return *nodes.back();
  }
  // A new process in the node's place (same identity and address, nothing kept), back before
  // its peers' grace period ends: they still hold its old slice.
  void restart(DeltaNode& n) {
    n.adapter.reset();
    n.store.reset();
    h.restartCore(*n.node, MeshOptions{});
    attach(n);
  }
  // Every node holds exactly `value` as `owner`'s slice.
  bool holdEverywhere(const DeltaNode& owner, const Bytes& value) {
    for (auto& n : nodes) {
      if (n.get() == &owner) continue;
      auto v = n->store->get(owner.id());
      if (!v || *v != value) return false;
    }
    return true;
  }
  bool settle(const DeltaNode& owner, const Bytes& value, Micros limit = 3 * kSeconds) {
    return h.env.advanceUntil([&] { return holdEverywhere(owner, value); }, limit, kMillis);
  }

  MeshHarness h;
  std::vector<std::unique_ptr<DeltaNode>> nodes;

 private:
  void attach(DeltaNode& n) {
    n.store = std::make_unique<RawStore>("doc", n.id(), StoreOptions{nullptr, [env = &h.env] { return env->wallMillis(); }});
    n.adapter = std::make_unique<StoreSyncAdapter>(h.env, *n.node->core, n.options);
    ASSERT_TRUE(n.adapter->addStore(*n.store).isOk());
  }
};

Bytes randomBytes(std::mt19937_64& rng, size_t n) {
  Bytes b(n);
  for (auto& x : b) x = static_cast<uint8_t>(rng());
  return b;
}

// A random edit: bytes overwritten, inserted or deleted, at most ~1 KiB.
Bytes randomEdit(std::mt19937_64& rng, Bytes v) {
  const size_t at = rng() % v.size();
  switch (rng() % 3) {
    case 0:
      for (size_t i = at; i < std::min(v.size(), at + 1 + rng() % 200); ++i) v[i] = static_cast<uint8_t>(rng());
      break;
    case 1: {
      const Bytes ins = randomBytes(rng, 1 + rng() % 300);
      v.insert(v.begin() + static_cast<ptrdiff_t>(at), ins.begin(), ins.end());
      break;
    }
    default:
      v.erase(v.begin() + static_cast<ptrdiff_t>(at), v.begin() + static_cast<ptrdiff_t>(std::min(v.size(), at + 1 + rng() % 300)));
  }
  return v;
}

uint64_t versionOf(const RawStore& s) { return s.localSlice().version; }

TEST(StoreSyncDelta, RandomEditsArriveByteExactOnEveryNodeAsDeltas) {
  DeltaCluster c;
  for (int i = 0; i < 4; ++i) c.add();
  ASSERT_TRUE(c.h.allConnected());
  std::mt19937_64 rng(2020);
  std::vector<Bytes> values;
  for (auto& n : c.nodes) {
    values.push_back(randomBytes(rng, 64 * 1024));
    ASSERT_TRUE(n->store->set(values.back()).isOk());
  }
  for (size_t i = 0; i < c.nodes.size(); ++i) ASSERT_TRUE(c.settle(*c.nodes[i], values[i]));
  const uint64_t bytes_before = c.nodes[0]->stats().slice_bytes_sent;
  for (int round = 0; round < 40; ++round) {
    // Every node edits its own slice, some twice in one turn (coalesced: the newest goes).
    for (size_t i = 0; i < c.nodes.size(); ++i) {
      values[i] = randomEdit(rng, values[i]);
      ASSERT_TRUE(c.nodes[i]->store->set(values[i]).isOk());
      if (rng() % 4 == 0) {
        values[i] = randomEdit(rng, values[i]);
        ASSERT_TRUE(c.nodes[i]->store->set(values[i]).isOk());
      }
    }
    for (size_t i = 0; i < c.nodes.size(); ++i) ASSERT_TRUE(c.settle(*c.nodes[i], values[i])) << "round " << round;
  }
  for (auto& n : c.nodes) {
    EXPECT_GE(n->stats().deltas_sent, 3u * 40) << "every edit went as a delta to each of 3 peers";
    EXPECT_GE(n->stats().deltas_applied, 3u * 40);
    EXPECT_EQ(n->stats().deltas_refused, 0u);
    EXPECT_EQ(n->stats().malformed, 0u);
  }
  const uint64_t per_update = (c.nodes[0]->stats().slice_bytes_sent - bytes_before) / c.nodes[0]->stats().deltas_sent;
  EXPECT_LT(per_update, 2048u) << "edits of <= 300 bytes in 64 KiB";
}

TEST(StoreSyncDelta, AMixedMeshWithVersion2PeersConverges) {
  DeltaCluster c;
  DeltaNode& a = c.add();
  DeltaNode& old_peer = c.add(/*old_build=*/true);
  DeltaNode& b = c.add();
  ASSERT_TRUE(c.h.allConnected());
  std::mt19937_64 rng(7);
  Bytes value = randomBytes(rng, 32 * 1024);
  Bytes old_value = randomBytes(rng, 32 * 1024);
  ASSERT_TRUE(a.store->set(value).isOk());
  ASSERT_TRUE(old_peer.store->set(old_value).isOk());
  ASSERT_TRUE(c.settle(a, value));
  for (int round = 0; round < 10; ++round) {
    value = randomEdit(rng, value);
    old_value = randomEdit(rng, old_value);
    ASSERT_TRUE(a.store->set(value).isOk());
    ASSERT_TRUE(old_peer.store->set(old_value).isOk());
    ASSERT_TRUE(c.settle(a, value)) << "round " << round;
    ASSERT_TRUE(c.settle(old_peer, old_value)) << "round " << round;
  }
  EXPECT_EQ(a.stats().deltas_sent, 10u) << "deltas only to the version 3 peer";
  EXPECT_EQ(old_peer.stats().deltas_sent, 0u);
  EXPECT_EQ(old_peer.stats().malformed, 0u) << "it never saw a message type it does not know";
  EXPECT_EQ(b.stats().deltas_applied, 10u);
  EXPECT_EQ(b.stats().deltas_refused + a.stats().deltas_refused + old_peer.stats().deltas_refused, 0u);
}

// Peers with and without "delta-tree": each gets the delta form it knows (type 8 / type 6),
// and every edit of either arrives byte-exact everywhere.
TEST(StoreSyncDelta, AMixedMeshWithAndWithoutTreeDigestsConverges) {
  DeltaCluster c;
  DeltaNode& a = c.add();
  DeltaNode& no_tree = c.add(false, /*no_tree=*/true);
  DeltaNode& b = c.add();
  ASSERT_TRUE(c.h.allConnected());
  std::mt19937_64 rng(8);
  Bytes value = randomBytes(rng, 96 * 1024);
  Bytes other = randomBytes(rng, 96 * 1024);
  ASSERT_TRUE(a.store->set(value).isOk());
  ASSERT_TRUE(no_tree.store->set(other).isOk());
  ASSERT_TRUE(c.settle(a, value));
  ASSERT_TRUE(c.settle(no_tree, other));
  for (int round = 0; round < 12; ++round) {
    value = randomEdit(rng, value);
    other = randomEdit(rng, other);
    ASSERT_TRUE(a.store->set(value).isOk());
    ASSERT_TRUE(no_tree.store->set(other).isOk());
    ASSERT_TRUE(c.settle(a, value)) << "round " << round;
    ASSERT_TRUE(c.settle(no_tree, other)) << "round " << round;
  }
  EXPECT_EQ(a.stats().deltas_sent, 24u) << "every edit as a delta to both peers";
  EXPECT_EQ(a.stats().tree_deltas_sent, 12u) << "tree digests only to the peer that lists them";
  EXPECT_EQ(no_tree.stats().tree_deltas_sent, 0u);
  EXPECT_EQ(b.stats().tree_deltas_applied, 12u);
  EXPECT_EQ(no_tree.stats().tree_deltas_applied, 0u);
  EXPECT_EQ(b.stats().deltas_applied, 24u);
  EXPECT_EQ(a.stats().deltas_refused + b.stats().deltas_refused + no_tree.stats().deltas_refused, 0u);
  EXPECT_EQ(no_tree.stats().malformed, 0u);
}

TEST(StoreSyncDelta, APeerThatRestartsBetweenVersionsGetsTheFullSliceThenDeltas) {
  DeltaCluster c;
  DeltaNode& a = c.add();
  DeltaNode& b = c.add();
  ASSERT_TRUE(c.h.allConnected());
  std::mt19937_64 rng(11);
  Bytes value = randomBytes(rng, 128 * 1024);
  ASSERT_TRUE(a.store->set(value).isOk());
  ASSERT_TRUE(c.settle(a, value));
  value = randomEdit(rng, value);
  ASSERT_TRUE(a.store->set(value).isOk());
  ASSERT_TRUE(c.settle(a, value));
  EXPECT_EQ(a.stats().deltas_sent, 1u);

  // The receiver restarts: it holds nothing, so the next version must go in full.
  c.restart(b);
  value = randomEdit(rng, value);
  ASSERT_TRUE(a.store->set(value).isOk());
  ASSERT_TRUE(c.h.allConnected());
  ASSERT_TRUE(c.settle(a, value));
  EXPECT_EQ(b.stats().deltas_applied, 0u);
  EXPECT_EQ(b.stats().deltas_refused, 0u) << "no delta was tried on a base it cannot hold";
  value = randomEdit(rng, value);
  ASSERT_TRUE(a.store->set(value).isOk());
  ASSERT_TRUE(c.settle(a, value));
  EXPECT_EQ(b.stats().deltas_applied, 1u) << "then deltas again";

  // The owner restarts: a new incarnation, which keeps no base; the peer's copy of the old run
  // is repaired, the new run's first write goes in full, the second as a delta.
  c.restart(a);
  ASSERT_TRUE(c.h.allConnected());
  c.h.env.advance(100 * kMillis);
  value = randomEdit(rng, value);
  ASSERT_TRUE(a.store->set(value).isOk());
  ASSERT_TRUE(c.settle(a, value));
  value = randomEdit(rng, value);
  ASSERT_TRUE(a.store->set(value).isOk());
  ASSERT_TRUE(c.settle(a, value));
  EXPECT_GE(a.stats().deltas_sent, 1u);
  EXPECT_EQ(b.stats().deltas_refused, 0u);
}

// Setup for the refusal tests: a and b linked, b holds a's 64 KiB slice at version v1.
struct Refusals : ::testing::Test {
  void SetUp() override {
    a = &c.add();
    b = &c.add();
    ASSERT_TRUE(c.h.allConnected());
    value = randomBytes(rng, 64 * 1024);
    ASSERT_TRUE(a->store->set(value).isOk());
    ASSERT_TRUE(c.settle(*a, value));
    v1 = versionOf(*a->store);
  }
  DeltaCluster c;
  DeltaNode* a = nullptr;
  DeltaNode* b = nullptr;
  std::mt19937_64 rng{5};
  Bytes value;
  uint64_t v1 = 0;
};

TEST_F(Refusals, ABaseTheReceiverNoLongerHoldsIsRefusedAndTheFullSliceFollows) {
  b->store->removeRemoteSlice(a->id(), LeaveReason::kTimeout);  // b lost its copy; a does not know
  value = randomEdit(rng, value);
  ASSERT_TRUE(a->store->set(value).isOk());
  ASSERT_TRUE(c.settle(*a, value));
  EXPECT_EQ(b->stats().deltas_refused_unknown_base, 1u);
  EXPECT_EQ(a->stats().delta_refusals_received, 1u);
  EXPECT_EQ(b->stats().deltas_applied, 0u);
  EXPECT_EQ(b->stats().slices_applied, 2u) << "v1 and then the full v2";
}

TEST_F(Refusals, AWrongBaseAtTheNamedVersionIsCaughtByTheDigestAndRepaired) {
  // b holds other data under a's version v1 (as a store bug or a corrupted copy would).
  Bytes wrong = value;
  wrong[100] ^= 1;
  b->store->removeRemoteSlice(a->id(), LeaveReason::kTimeout);
  ASSERT_EQ(b->store->applyRemoteSlice(DeviceSlice{a->id(), v1, 0, wrong}), ApplyResult::kApplied);
  value = randomEdit(rng, value);
  ASSERT_TRUE(a->store->set(value).isOk());
  ASSERT_TRUE(c.settle(*a, value));
  EXPECT_EQ(b->stats().deltas_refused_digest, 1u);
  EXPECT_EQ(a->stats().delta_refusals_received, 1u);
  EXPECT_EQ(*b->store->get(a->id()), value) << "the full slice replaced the wrong one";
}

TEST_F(Refusals, HostileDeltasAreRefusedCountedAndNeverApplied) {
  const uint64_t incarnation = a->adapter->incarnationOf("doc");
  auto hostile = [&](auto mutate) {
    SliceDelta d;
    d.store_id = "doc";
    d.device_id = a->id();
    d.base_version = v1;
    d.base_incarnation = incarnation;
    d.version = v1 + 1;
    d.incarnation = incarnation;
    Bytes next = value;
    next[0] ^= 0xff;
    d.size = next.size();
    d.digest = sliceDigest(next);
    DeltaOp lit;
    lit.literal = {next[0]};
    DeltaOp rest;
    rest.copy = true;
    rest.offset = 1;
    rest.length = next.size() - 1;
    d.ops = {lit, rest};
    mutate(d);
    // Sent by a's own core: authenticated as a, but not by its adapter.
    ASSERT_TRUE(a->node->core->bus().sendReserved(b->id(), kSyncNamespace, encodeDeltaMessage(d)).isOk());
    c.h.env.advance(10 * kMillis);
  };
  hostile([&](SliceDelta& d) { d.base_version = v1 - 1; });                       // a base b does not hold
  hostile([&](SliceDelta& d) { d.base_incarnation = incarnation + 1; });          // another run's v1
  hostile([&](SliceDelta& d) { d.base_incarnation = 0; });                        // no incarnation
  hostile([&](SliceDelta& d) { d.digest[0] ^= 1; });                              // wrong digest
  hostile([&](SliceDelta& d) { d.ops[1].offset = 2; });                           // block out of range
  hostile([&](SliceDelta& d) { d.ops[1].offset = d.ops[1].length = kMaxSliceData; });  // far outside
  hostile([&](SliceDelta& d) { d.size = kMaxSliceData + 1; });                    // oversized
  hostile([&](SliceDelta& d) { d.size += 1; });                                   // size mismatch
  hostile([&](SliceDelta& d) { d.device_id = b->id(); });                         // spoofed owner
  const SyncStats& s = b->stats();
  EXPECT_EQ(s.deltas_refused, 8u);
  EXPECT_EQ(s.deltas_refused_unknown_base, 3u);
  EXPECT_EQ(s.deltas_refused_digest, 1u);
  EXPECT_EQ(s.deltas_refused_malformed, 4u);
  EXPECT_EQ(s.slices_spoofed, 1u);
  EXPECT_EQ(s.deltas_applied, 0u);
  EXPECT_EQ(*b->store->get(a->id()), value) << "never a wrong value";
  EXPECT_EQ(a->stats().delta_refusals_received, 0u) << "refusals of deltas a's adapter never sent are ignored";
  // Undecodable bytes on the delta codes are malformed messages.
  ASSERT_TRUE(a->node->core->bus().sendReserved(b->id(), kSyncNamespace, Bytes{0x92, 0x06, 0xc1}).isOk());
  c.h.env.advance(10 * kMillis);
  EXPECT_EQ(s.malformed, 1u);
  // The owner's next version still arrives (as a delta on the untouched base).
  value = randomEdit(rng, value);
  ASSERT_TRUE(a->store->set(value).isOk());
  ASSERT_TRUE(c.settle(*a, value));
  EXPECT_EQ(s.deltas_applied, 1u);
}

// Type 8 (tree digest) with b holding the tree of its base (v2 came as a tree-checked delta):
// roots that are not the result's are refused, the held slice stays, the next edit arrives.
TEST_F(Refusals, HostileTreeDeltasAreRefusedWithTheBaseTreeKept) {
  value = randomEdit(rng, value);
  ASSERT_TRUE(a->store->set(value).isOk());
  ASSERT_TRUE(c.settle(*a, value));
  ASSERT_EQ(b->stats().tree_deltas_applied, 1u);
  const uint64_t v2 = versionOf(*a->store), incarnation = a->adapter->incarnationOf("doc");
  auto hostile = [&](auto mutate) {
    SliceDelta d;
    d.store_id = "doc";
    d.device_id = a->id();
    d.base_version = v2, d.base_incarnation = incarnation, d.version = v2 + 1, d.incarnation = incarnation;
    Bytes next = value;
    next[5000] ^= 0xff;
    d.size = next.size();
    d.digest_kind = DeltaDigest::kTree;
    d.digest = sliceTree(next).root;
    DeltaOp head, lit, rest;
    head.copy = true, head.offset = 0, head.length = 5000;
    lit.literal = {next[5000]};
    rest.copy = true, rest.offset = 5001, rest.length = next.size() - 5001;
    d.ops = {head, lit, rest};
    mutate(d, next);
    ASSERT_TRUE(a->node->core->bus().sendReserved(b->id(), kSyncNamespace, encodeDeltaMessage(d)).isOk());
    c.h.env.advance(10 * kMillis);
  };
  hostile([](SliceDelta& d, const Bytes&) { d.digest[0] ^= 1; });                 // a root nobody has
  hostile([](SliceDelta& d, const Bytes& next) { d.digest = sliceDigest(next); });  // type 6's digest
  hostile([&](SliceDelta& d, const Bytes&) { d.digest = sliceTree(value).root; }); // the base's root
  hostile([](SliceDelta& d, const Bytes&) { d.ops[2].offset = 5000, d.ops[2].length -= 1, d.ops.push_back(d.ops[1]); });
  const SyncStats& s = b->stats();
  EXPECT_EQ(s.deltas_refused_digest, 4u);
  EXPECT_EQ(s.tree_deltas_applied, 1u);
  EXPECT_EQ(*b->store->get(a->id()), value) << "never a wrong value";
  value = randomEdit(rng, value);
  ASSERT_TRUE(a->store->set(value).isOk());
  ASSERT_TRUE(c.settle(*a, value));
  EXPECT_EQ(s.tree_deltas_applied, 2u) << "the kept tree still serves the owner's next delta";
}

TEST_F(Refusals, ADeltaToAVersionFarAheadOfOurClockIsIgnoredLikeSuchASliceUpdate) {
  SliceDelta d;
  d.store_id = "doc";
  d.device_id = a->id();
  d.base_version = v1;
  d.base_incarnation = d.incarnation = a->adapter->incarnationOf("doc");
  d.version = UINT64_MAX;
  d.size = value.size();
  d.digest = sliceDigest(value);
  DeltaOp all;
  all.copy = true;
  all.length = value.size();
  d.ops = {all};
  ASSERT_TRUE(a->node->core->bus().sendReserved(b->id(), kSyncNamespace, encodeDeltaMessage(d)).isOk());
  c.h.env.advance(10 * kMillis);
  EXPECT_EQ(b->stats().versions_implausible, 1u);
  EXPECT_EQ(b->stats().deltas_applied + b->stats().deltas_refused, 0u) << "neither applied nor answered";
  EXPECT_EQ(b->store->remoteVersions()[0].version, v1);
}

TEST_F(Refusals, RefusalsCannotMakeTheOwnerResendMoreThanOnceADelta) {
  value = randomEdit(rng, value);
  ASSERT_TRUE(a->store->set(value).isOk());
  ASSERT_TRUE(c.settle(*a, value));
  ASSERT_EQ(a->stats().deltas_sent, 1u);
  const uint64_t v2 = versionOf(*a->store);
  const uint64_t sent = a->stats().slices_sent;
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(b->node->core->bus()
                    .sendReserved(a->id(), kSyncNamespace, encodeDeltaMessage(DeltaRefused{"doc", v2, DeltaRefusal::kDigestMismatch}))
                    .isOk());
  }
  c.h.env.advance(100 * kMillis);
  EXPECT_EQ(a->stats().delta_refusals_received, 1u);
  EXPECT_EQ(a->stats().slices_sent, sent + 1) << "one full slice for the one delta";
}

TEST(StoreSyncDelta, SmallSlicesAndTurnedOffDeltasGoInFull) {
  DeltaCluster c;
  DeltaNode& a = c.add();
  DeltaNode& b = c.add();
  ASSERT_TRUE(c.h.allConnected());
  std::mt19937_64 rng(3);
  Bytes small = randomBytes(rng, kMinDeltaSliceSize - 1);
  for (int i = 0; i < 5; ++i) {
    small[i] ^= 1;
    ASSERT_TRUE(a.store->set(small).isOk());
    ASSERT_TRUE(c.settle(a, small));
  }
  EXPECT_EQ(a.stats().deltas_sent, 0u);
  // Everything changed: the delta would not be smaller than max_delta_percent of the slice.
  Bytes big = randomBytes(rng, 64 * 1024);
  ASSERT_TRUE(a.store->set(big).isOk());
  ASSERT_TRUE(c.settle(a, big));
  big = randomBytes(rng, 64 * 1024);
  ASSERT_TRUE(a.store->set(big).isOk());
  ASSERT_TRUE(c.settle(a, big));
  EXPECT_EQ(a.stats().deltas_sent, 0u);
  EXPECT_EQ(b.stats().deltas_refused, 0u);
}

}  // namespace
}  // namespace meshslice
