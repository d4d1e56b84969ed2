// Issue 19: failures of store sync reach the store's users by phase (store/store_error.h,
// StoreSyncAdapter::setErrorHook). Each test provokes one real failure and checks that the hook
// fired exactly once for it, with the phase, store and device concerned, and that every counted
// failure of those kinds was reported (hook calls == counter increments).
#include <gtest/gtest.h>

#include <filesystem>

#include "store/file_persistence.h"
#include "store/version_clock.h"
#include "tests/mesh/scoped_temp_dir.h"
#include "tests/store/sync_cluster.h"

namespace meshslice {
namespace {

using test::pos;
using test::SyncCluster;
using test::SyncNode;

// What one adapter's hook saw.
struct HookLog {
  std::vector<StoreError> errors;
  void attach(SyncNode& n) {
    n.adapter->setErrorHook([this](const StoreError& e) { errors.push_back(e); });
  }
  std::vector<StoreError> of(StorePhase phase) const {
    std::vector<StoreError> out;
    for (const StoreError& e : errors)
      if (e.phase == phase) out.push_back(e);
    return out;
  }
};

// Failures of the kinds the hook reports, as counted.
uint64_t reportedKinds(const SyncStats& s) {
  return s.malformed + s.slices_rejected + s.persist_errors + s.send_errors + s.contract_mismatches;
}

// Closes every link of `n` (as a network failure would; its address still accepts a redial).
void cutLinksOf(SyncCluster& c, SyncNode& n) {
  std::vector<MemoryLink*> open;
  for (MemoryLink* l : c.h.net.links())
    if (l->isOpen() && (l->localAddress().rfind(n.node->address, 0) == 0 ||
                        l->remoteAddress().rfind(n.node->address, 0) == 0))
      open.push_back(l);
  ASSERT_FALSE(open.empty());
  for (MemoryLink* l : open) l->close(Status(Code::kIo, "link cut"));
}

// After cutLinksOf(): runs the loop one task at a time until `a` sees its link to `b` closed,
// and no further: a redial would bring a new link within the same turn of tasks.
bool untilLinkDrops(SyncCluster& c, SyncNode& a, SyncNode& b) {
  for (int i = 0; i < 10000; ++i) {
    if (!a.core().isConnected(b.id())) return true;
    if (c.h.env.runPending(1) == 0) return false;
  }
  return false;
}

TEST(StorePhases, HaveTheDocumentedNames) {
  EXPECT_STREQ(storePhaseName(StorePhase::kDecode), "decode");
  EXPECT_STREQ(storePhaseName(StorePhase::kApply), "apply");
  EXPECT_STREQ(storePhaseName(StorePhase::kPersist), "persist");
  EXPECT_STREQ(storePhaseName(StorePhase::kSend), "send");
  EXPECT_STREQ(storePhaseName(StorePhase::kContract), "contract");
  EXPECT_STREQ(storePhaseName(static_cast<StorePhase>(99)), "unknown");
}

TEST(StoreErrorHook, ASyncMessageThatDoesNotDecodeIsReportedOnceAsDecode) {
  SyncCluster c;
  SyncNode& a = c.add();
  SyncNode& b = c.add();
  HookLog log;
  log.attach(a);
  ASSERT_TRUE(c.allConnected());
  ASSERT_TRUE(a.store().set(pos(1)).isOk());
  ASSERT_TRUE(c.settle());
  ASSERT_TRUE(log.errors.empty());

  ASSERT_TRUE(b.core().bus().sendReserved(a.id(), kSyncNamespace, Bytes{0x92, 0x07, 0x90}).isOk());
  ASSERT_TRUE(c.h.env.advanceUntil([&] { return a.adapter->stats().malformed == 1; }, 1 * kSeconds, kMillis));
  c.h.env.advance(2 * AdapterOptions{}.anti_entropy_interval);  // nothing else goes wrong meanwhile
  ASSERT_EQ(log.errors.size(), 1u);
  EXPECT_EQ(log.errors[0].phase, StorePhase::kDecode);
  EXPECT_EQ(log.errors[0].store, "");  // the message did not say which
  EXPECT_EQ(log.errors[0].device, b.id());
  EXPECT_EQ(log.errors[0].status.code(), Code::kMalformed);
  EXPECT_EQ(reportedKinds(a.adapter->stats()), log.errors.size());
}

TEST(StoreErrorHook, ASliceTheStoreRefusesIsReportedOnceAsApply) {
  SyncCluster c;
  SyncNode& a = c.add();
  SyncNode& b = c.add({});
  HookLog log;
  log.attach(a);
  StoreOptions env_clock;  // versions from the cluster's clock: others would be implausible
  env_clock.wall_clock = [&c] { return c.h.env.wallMillis(); };
  RawStore raw("pos", b.id(), env_clock);  // declares no contract: a takes its data
  ASSERT_TRUE(b.adapter->addStore(raw).isOk());
  ASSERT_TRUE(c.allConnected());
  ASSERT_TRUE(raw.set(toBytes("not a Pos")).isOk());
  ASSERT_TRUE(c.h.env.advanceUntil([&] { return a.adapter->stats().slices_rejected == 1; }, 1 * kSeconds, kMillis));
  c.h.env.advance(100 * kMillis);
  ASSERT_EQ(log.errors.size(), 1u);
  EXPECT_EQ(log.errors[0].phase, StorePhase::kApply);
  EXPECT_EQ(log.errors[0].store, "pos");
  EXPECT_EQ(log.errors[0].device, b.id());
  EXPECT_FALSE(log.errors[0].status.isOk());
  EXPECT_FALSE(a.store().get(b.id()));
  EXPECT_EQ(reportedKinds(a.adapter->stats()), log.errors.size());
  b.adapter.reset();  // before `raw` goes away
}

TEST(StoreErrorHook, ARepairThatCannotBeSavedIsReportedOnceAsPersist) {
  ScopedTempDir dir;
  const std::string sub = dir.file("stores");
  ASSERT_TRUE(std::filesystem::create_directory(sub));
  SyncCluster c;
  StoreOptions saved;
  saved.persistence = std::make_shared<FilePersistence>(sub + "/pos.slice", "pos");
  SyncNode& a = c.add({"pos"}, saved);
  SyncNode& b = c.add();
  HookLog log;
  log.attach(a);
  ASSERT_TRUE(c.allConnected());
  ASSERT_TRUE(a.store().set(pos(1)).isOk());
  ASSERT_TRUE(c.settle());
  const uint64_t before = a.store().localSlice().version;

  // The state directory goes away (a real file error), then b reports holding a's slice at a
  // higher version from another run of a: a repairs, and the save of the repaired version fails.
  std::filesystem::remove_all(sub);
  Digest d;
  d.entries.push_back(DigestEntry{"pos", a.id(), before + 50, 0x5eed});
  ASSERT_TRUE(b.core().bus().sendReserved(a.id(), kSyncNamespace, encodeSyncMessage(d)).isOk());
  ASSERT_TRUE(c.h.env.advanceUntil([&] { return a.adapter->stats().persist_errors == 1; }, 1 * kSeconds, kMillis));
  c.h.env.advance(100 * kMillis);
  EXPECT_GT(a.store().localSlice().version, before + 50) << "the repair still holds in memory";
  ASSERT_EQ(log.errors.size(), 1u);
  EXPECT_EQ(log.errors[0].phase, StorePhase::kPersist);
  EXPECT_EQ(log.errors[0].store, "pos");
  EXPECT_EQ(log.errors[0].device, a.id()) << "the slice not saved is a's own";
  EXPECT_EQ(log.errors[0].status.code(), Code::kIo) << log.errors[0].status.toString();
  EXPECT_EQ(reportedKinds(a.adapter->stats()), log.errors.size());
}

TEST(StoreErrorHook, ASliceThatCannotBeSentIsReportedOnceAsSend) {
  SyncCluster c;
  SyncNode& a = c.add();
  SyncNode& b = c.add();
  HookLog log;
  log.attach(a);
  ASSERT_TRUE(c.allConnected());
  ASSERT_TRUE(a.store().set(pos(1)).isOk());
  ASSERT_TRUE(c.settle());

  // b's link drops; within the reconnect grace period a still counts b as a peer, and the
  // next write finds no link to send it on.
  cutLinksOf(c, b);
  ASSERT_TRUE(untilLinkDrops(c, a, b));
  ASSERT_TRUE(a.store().set(pos(2)).isOk());
  ASSERT_TRUE(c.h.env.advanceUntil([&] { return a.adapter->stats().send_errors >= 1; }, 1 * kSeconds, kMillis));
  ASSERT_TRUE(c.settle()) << "the re-link brings b the write";
  const auto sends = log.of(StorePhase::kSend);
  ASSERT_EQ(sends.size(), 1u);
  EXPECT_EQ(sends[0].store, "pos");
  EXPECT_EQ(sends[0].device, b.id());
  EXPECT_EQ(sends[0].status.code(), Code::kNotFound) << sends[0].status.toString();
  EXPECT_EQ(reportedKinds(a.adapter->stats()), log.errors.size());
  EXPECT_EQ(a.adapter->stats().send_errors, 1u);
}

TEST(StoreErrorHook, AContractMismatchIsReportedOnceOnEachSide) {
  SyncCluster c;
  StoreOptions v1, v2;
  v1.contract = StoreContract{"msgpack", "pos", 1};
  v2.contract = StoreContract{"msgpack", "pos", 2};
  SyncNode& a = c.add({"pos"}, v1);
  SyncNode& b = c.add({"pos"}, v2);
  HookLog log_a, log_b;
  log_a.attach(a);
  log_b.attach(b);
  ASSERT_TRUE(c.allConnected());
  ASSERT_TRUE(a.store().set(pos(1)).isOk());
  ASSERT_TRUE(b.store().set(pos(2)).isOk());
  c.h.env.advance(3 * AdapterOptions{}.anti_entropy_interval);  // several digest rounds
  for (auto [log, peer] : {std::pair{&log_a, &b}, std::pair{&log_b, &a}}) {
    ASSERT_EQ(log->errors.size(), 1u);
    EXPECT_EQ(log->errors[0].phase, StorePhase::kContract);
    EXPECT_EQ(log->errors[0].store, "pos");
    EXPECT_EQ(log->errors[0].device, peer->id());
    EXPECT_EQ(log->errors[0].status.code(), Code::kIncompatible);
  }
  EXPECT_EQ(reportedKinds(a.adapter->stats()), log_a.errors.size());
  EXPECT_EQ(reportedKinds(b.adapter->stats()), log_b.errors.size());
}

TEST(StoreErrorHook, MayRemoveTheStoreItReportsAndClearItself) {
  SyncCluster c;
  SyncNode& a = c.add();
  SyncNode& b = c.add();
  int calls = 0;
  a.adapter->setErrorHook([&](const StoreError&) {
    ++calls;
    EXPECT_TRUE(a.adapter->removeStore("pos").isOk());
    a.adapter->setErrorHook(nullptr);
  });
  ASSERT_TRUE(c.allConnected());
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(b.core().bus().sendReserved(a.id(), kSyncNamespace, Bytes{0xc1}).isOk());
  ASSERT_TRUE(c.h.env.advanceUntil([&] { return a.adapter->stats().malformed == 3; }, 1 * kSeconds, kMillis));
  c.h.env.advance(10 * kMillis);
  EXPECT_EQ(calls, 1) << "cleared inside its first call";
  EXPECT_EQ(a.adapter->incarnationOf("pos"), 0u);
}

TEST(StoreErrorHook, NothingIsReportedAfterStop) {
  SyncCluster c;
  SyncNode& a = c.add();
  SyncNode& b = c.add();
  HookLog log;
  log.attach(a);
  ASSERT_TRUE(c.allConnected());
  cutLinksOf(c, b);
  ASSERT_TRUE(untilLinkDrops(c, a, b));
  // A store added now sends its join exchange to b at once, which fails there and then; the
  // reports would come on a later turn, after the stop.
  c.addStore(a, "late");
  EXPECT_GT(a.adapter->stats().send_errors, 0u);
  a.adapter->stop();
  c.h.env.runPending();
  EXPECT_TRUE(log.errors.empty());
}

}  // namespace
}  // namespace meshslice
