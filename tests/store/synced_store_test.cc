#include "store/synced_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <limits>
#include <thread>

#include "tests/store/sync_cluster.h"

namespace meshslice {
namespace {

using test::Pos;
using test::PosStore;
using test::StoreEvents;

constexpr int64_t kWall = 1'700'000'000'000;

Pos p(int x, int y = 0) { return Pos{x, y, ""}; }

DeviceId device(uint8_t seed) {
  DeviceId::Raw raw;
  raw.fill(seed);
  return DeviceId(raw);
}

StoreOptions clockAt(int64_t* ms) {
  StoreOptions o;
  o.wall_clock = [ms] { return *ms; };
  return o;
}

DeviceSlice remote(uint8_t seed, uint64_t version, const Pos& p) {
  return DeviceSlice{device(seed), version, kWall, MsgpackCodec<Pos>::encode(p).value()};
}

TEST(SyncedStore, SetStampsRisingVersionsAndTheWallClock) {
  int64_t now = kWall;
  PosStore s("pos", device(1), clockAt(&now));
  EXPECT_EQ(s.localSlice().version, 0u);
  EXPECT_EQ(s.local(), Pos{});
  EXPECT_FALSE(s.get(device(1)));
  ASSERT_TRUE(s.set(Pos{1, 2, "a"}).isOk());
  EXPECT_EQ(s.localSlice().version, uint64_t(kWall) * 1000);
  EXPECT_EQ(s.localSlice().updated_at, kWall);
  EXPECT_EQ(s.localSlice().device_id, device(1));
  ASSERT_TRUE(s.set(Pos{3, 4, "b"}).isOk());
  EXPECT_EQ(s.localSlice().version, uint64_t(kWall) * 1000 + 1);
  now += 5;
  ASSERT_TRUE(s.set(Pos{5, 6, "c"}).isOk());
  EXPECT_EQ(s.localSlice().version, uint64_t(kWall + 5) * 1000);
  EXPECT_EQ(s.local(), (Pos{5, 6, "c"}));
  EXPECT_EQ(s.get(device(1)), (Pos{5, 6, "c"}));
  EXPECT_EQ(MsgpackCodec<Pos>::decode(s.localSlice().data).value(), (Pos{5, 6, "c"}));
}

TEST(SyncedStore, NewestRemoteVersionWinsAndEqualOrOlderIsIgnored) {
  PosStore s("pos", device(1));
  StoreEvents ev;
  ev.attach(s);
  EXPECT_EQ(s.applyRemoteSlice(remote(2, 10, p(1))), ApplyResult::kApplied);
  EXPECT_EQ(s.applyRemoteSlice(remote(2, 10, p(2))), ApplyResult::kStale);
  EXPECT_EQ(s.applyRemoteSlice(remote(2, 9, p(3))), ApplyResult::kStale);
  EXPECT_EQ(s.get(device(2)), p(1));
  EXPECT_EQ(s.applyRemoteSlice(remote(2, 11, p(4))), ApplyResult::kApplied);
  EXPECT_EQ(s.get(device(2)), p(4));
  EXPECT_EQ(s.stats().stale, 2u);
  EXPECT_EQ(s.stats().applied, 2u);
  ASSERT_EQ(ev.updated.size(), 2u);
  EXPECT_EQ(ev.updated[1].device, device(2));
  EXPECT_EQ(ev.updated[1].value, p(4));
  EXPECT_EQ(ev.updated[1].version, 11u);
  EXPECT_EQ(s.remoteVersions(), (std::vector<HeldVersion>{{device(2), 11}}));
}

TEST(SyncedStore, AllIncludesTheLocalValueOnceWritten) {
  PosStore s("pos", device(1));
  ASSERT_EQ(s.applyRemoteSlice(remote(2, 1, p(2))), ApplyResult::kApplied);
  ASSERT_EQ(s.applyRemoteSlice(remote(3, 1, p(3))), ApplyResult::kApplied);
  EXPECT_EQ(s.all().size(), 2u);
  ASSERT_TRUE(s.set(p(1)).isOk());
  auto all = s.all();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[device(1)], p(1));
  EXPECT_EQ(all[device(3)], p(3));
  EXPECT_EQ(s.remoteSlices().size(), 2u);
}

TEST(SyncedStore, EventsReportLocalChangesUpdatesAndRemovals) {
  PosStore s("pos", device(1));
  StoreEvents ev;
  ev.attach(s);
  ASSERT_TRUE(s.set(p(1)).isOk());
  ASSERT_EQ(ev.local.size(), 1u);
  EXPECT_EQ(ev.local[0].value, p(1));
  EXPECT_EQ(ev.local[0].version, s.localSlice().version);
  ASSERT_EQ(s.applyRemoteSlice(remote(2, 1, p(2))), ApplyResult::kApplied);
  ASSERT_EQ(s.applyRemoteSlice(remote(3, 1, p(3))), ApplyResult::kApplied);
  s.removeRemoteSlice(device(2), LeaveReason::kTimeout);
  s.removeRemoteSlice(device(2), LeaveReason::kTimeout);  // not held: no event
  ASSERT_EQ(ev.removed.size(), 1u);
  EXPECT_EQ(ev.removed[0].device, device(2));
  EXPECT_EQ(ev.removed[0].reason, LeaveReason::kTimeout);
  s.clearRemoteSlices();
  ASSERT_EQ(ev.removed.size(), 2u);
  EXPECT_EQ(ev.removed[1].reason, LeaveReason::kStopped);
  EXPECT_TRUE(s.remoteSlices().empty());
  EXPECT_EQ(s.get(device(1)), p(1)) << "the local slice stays";
}

TEST(SyncedStore, DestroyedListenerHandleStopsEvents) {
  PosStore s("pos", device(1));
  int calls = 0;
  ListenerHandle h = s.listen([&](const PosStore::Event&) { ++calls; });
  ASSERT_TRUE(s.set(p(1)).isOk());
  h.reset();
  EXPECT_FALSE(h.active());
  ASSERT_TRUE(s.set(p(2)).isOk());
  EXPECT_EQ(calls, 1);
}

TEST(SyncedStore, ListenerMayUnsubscribeItselfAndReadTheStore) {
  PosStore s("pos", device(1));
  ListenerHandle h;
  int calls = 0;
  h = s.listen([&](const PosStore::Event&) {
    ++calls;
    EXPECT_EQ(s.local(), p(1));
    h.reset();
  });
  ASSERT_TRUE(s.set(p(1)).isOk());
  ASSERT_TRUE(s.set(p(2)).isOk());
  EXPECT_EQ(calls, 1);
}

TEST(SyncedStore, LocalChangeListenerFiresOnEveryChangeUntilCleared) {
  PosStore s("pos", device(1));
  int changes = 0;
  s.setLocalChangeListener([&] { ++changes; });
  ASSERT_TRUE(s.set(p(1)).isOk());
  EXPECT_TRUE(s.raiseLocalVersionAbove(s.localSlice().version + 100).isOk());
  EXPECT_EQ(changes, 2);
  s.setLocalChangeListener(nullptr);
  ASSERT_TRUE(s.set(p(2)).isOk());
  EXPECT_EQ(changes, 2);
}

TEST(SyncedStore, RaiseLocalVersionAboveRestampsTheSameData) {
  int64_t now = kWall;
  PosStore s("pos", device(1), clockAt(&now));
  ASSERT_TRUE(s.set(p(7)).isOk());
  const DeviceSlice before = s.localSlice();
  EXPECT_TRUE(s.raiseLocalVersionAbove(before.version - 1).isOk());  // already above: nothing to do
  EXPECT_EQ(s.localSlice(), before);
  EXPECT_TRUE(s.raiseLocalVersionAbove(before.version + 500).isOk());
  EXPECT_EQ(s.localSlice().version, before.version + 501);
  EXPECT_EQ(s.localSlice().data, before.data);
  EXPECT_EQ(s.local(), p(7));
  EXPECT_EQ(s.stats().repairs, 1u);
  ASSERT_TRUE(s.set(p(8)).isOk());
  EXPECT_EQ(s.localSlice().version, before.version + 502);
}

TEST(SyncedStore, RaiseBeforeAnyWriteOnlySetsAFloor) {
  int64_t now = kWall;
  PosStore s("pos", device(1), clockAt(&now));
  int changes = 0;
  s.setLocalChangeListener([&] { ++changes; });
  const uint64_t peer_held = uint64_t(kWall) * 1000 + 40;
  EXPECT_TRUE(s.raiseLocalVersionAbove(peer_held).isOk());
  EXPECT_EQ(s.localSlice().version, 0u);
  EXPECT_EQ(changes, 0);
  ASSERT_TRUE(s.set(p(1)).isOk());
  EXPECT_EQ(s.localSlice().version, peer_held + 1);
}

TEST(SyncedStore, RemoteDataThatDoesNotDecodeIsRejectedWithoutCrashing) {
  PosStore s("pos", device(1));
  StoreEvents ev;
  ev.attach(s);
  Bytes nested;
  for (int i = 0; i < 100; ++i) nested.push_back(0x91);
  nested.push_back(0x01);
  const Bytes cases[] = {
      {},                              // empty
      {0xc1},                          // never-used msgpack byte
      {0x93, 0x01, 0x02},              // truncated array
      {0x93, 0x01, 0x02, 0xa1, 'x', 0x00},  // trailing byte
      {0xa3, 'a', 'b', 'c'},           // a string, not a Pos
      {0x93, 0xa1, 'x', 0x02, 0xa1, 'y'},   // wrong field type
      {0xdd, 0xff, 0xff, 0xff, 0xff},  // array32 claiming 4 billion entries
      {0xdb, 0xff, 0xff, 0xff, 0xff},  // str32 claiming 4 GB
      nested,                          // deeper than the limit
      toBytes("{\"x\":1}"),            // JSON
  };
  uint8_t seed = 2;
  for (const Bytes& data : cases) {
    DeviceSlice slice{device(seed++), 1, kWall, data};
    EXPECT_EQ(s.applyRemoteSlice(slice), ApplyResult::kRejected) << toHex(data);
  }
  EXPECT_EQ(s.stats().rejected, std::size(cases));
  EXPECT_TRUE(s.all().empty());
  EXPECT_TRUE(ev.updated.empty());
}

TEST(SyncedStore, ValueLargerThanASliceIsRefused) {
  PosStore s("pos", device(1));
  Pos big{1, 2, std::string(kMaxSliceData, 'x')};
  EXPECT_EQ(s.set(big).code(), Code::kTooLarge);
  EXPECT_EQ(s.localSlice().version, 0u);
  Pos fits{1, 2, std::string(kMaxSliceData - 16, 'x')};
  EXPECT_TRUE(s.set(fits).isOk());
}

TEST(SyncedStore, OpenRefusesABadStoreId) {
  EXPECT_EQ(PosStore::open("", device(1)).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(PosStore::open("ünïcode", device(1)).status().code(), Code::kInvalidArgument);
}

TEST(SyncedStore, PersistedSliceIsRestoredAndVersionsContinue) {
  auto mem = std::make_shared<MemoryPersistence>();
  int64_t now = kWall;
  StoreOptions o = clockAt(&now);
  o.persistence = mem;
  uint64_t last = 0;
  {
    auto s = PosStore::open("pos", device(1), o).value();
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(s->set(p(i)).isOk());
    last = s->localSlice().version;
    EXPECT_EQ(mem->saves(), 5u);
  }
  auto s = PosStore::open("pos", device(1), o).value();
  EXPECT_EQ(s->local(), p(4));
  EXPECT_EQ(s->localSlice().version, last);
  ASSERT_TRUE(s->set(p(5)).isOk());
  EXPECT_EQ(s->localSlice().version, last + 1) << "clock not advanced: the persisted version leads";
}

// Issue 14: at the top of the range set() "succeeded" with the old version, so nothing was
// sent and peers kept the old value. Now it is an error and nothing changes.
TEST(SyncedStore, SetAtTheTopOfTheVersionRangeFailsInsteadOfKeepingTheOldVersion) {
  int64_t now = std::numeric_limits<int64_t>::max();  // a clock whose seed saturates the range
  PosStore s("pos", device(1), clockAt(&now));
  StoreEvents ev;
  ev.attach(s);
  ASSERT_TRUE(s.set(p(1)).isOk());
  ASSERT_EQ(s.localSlice().version, kMaxVersion);
  const Status st = s.set(p(2));
  EXPECT_EQ(st.code(), Code::kTooLarge) << st.toString();
  EXPECT_NE(st.message().find("version space is exhausted"), std::string::npos) << st.message();
  EXPECT_EQ(s.local(), p(1));
  EXPECT_EQ(ev.local.size(), 1u) << "no LocalChanged for a write that did not happen";
  EXPECT_TRUE(s.raiseLocalVersionAbove(kMaxVersion - 1).isOk());  // a repair has nowhere to go either
  EXPECT_EQ(s.localSlice().version, kMaxVersion);
  EXPECT_EQ(s.local(), p(1));

  // A floor at the top (nothing written yet) refuses the first write the same way.
  PosStore fresh("pos", device(2), clockAt(&now));
  EXPECT_TRUE(fresh.raiseLocalVersionAbove(kMaxVersion).isOk());
  EXPECT_EQ(fresh.set(p(1)).code(), Code::kTooLarge);
  EXPECT_EQ(fresh.localSlice().version, 0u);
}

// A saved version no peer would accept (left by the freeze under an older build) is not
// continued: versions restart from the clock, the data is kept, and writes go on.
TEST(SyncedStore, AnImplausibleSavedVersionRestartsFromTheClock) {
  auto mem = std::make_shared<MemoryPersistence>();
  ASSERT_TRUE(mem->save(DeviceSlice{device(1), kMaxVersion, kWall, MsgpackCodec<Pos>::encode(p(3)).value()}).isOk());
  int64_t now = kWall;
  StoreOptions o = clockAt(&now);
  o.persistence = mem;
  auto s = PosStore::open("pos", device(1), o);
  ASSERT_TRUE(s.isOk()) << s.status().toString();
  EXPECT_EQ((*s)->local(), p(3));
  EXPECT_EQ((*s)->localSlice().version, wallClockVersion(kWall));
  ASSERT_TRUE((*s)->set(p(4)).isOk());
  EXPECT_EQ((*s)->localSlice().version, wallClockVersion(kWall) + 1);
  EXPECT_EQ(mem->load().value()->version, wallClockVersion(kWall) + 1) << "saved from the new start";

  // At the accept bound the saved version is kept (a plausible version is continued).
  const uint64_t high = wallClockVersion(kWall) + kMaxAcceptLead;
  ASSERT_TRUE(mem->save(DeviceSlice{device(1), high, kWall, MsgpackCodec<Pos>::encode(p(5)).value()}).isOk());
  auto kept = PosStore::open("pos", device(1), o);
  ASSERT_TRUE(kept.isOk());
  EXPECT_EQ((*kept)->localSlice().version, high);
}

class FailingPersistence final : public SlicePersistence {
 public:
  Result<std::optional<DeviceSlice>> load() override { return std::optional<DeviceSlice>(); }
  Status save(const DeviceSlice&) override { return ioError("disk full"); }
};

TEST(SyncedStore, FailedPersistLeavesTheStoreUnchanged) {
  StoreOptions o;
  o.persistence = std::make_shared<FailingPersistence>();
  auto s = PosStore::open("pos", device(1), o).value();
  int changes = 0;
  s->setLocalChangeListener([&] { ++changes; });
  EXPECT_EQ(s->set(p(1)).code(), Code::kIo);
  EXPECT_EQ(s->localSlice().version, 0u);
  EXPECT_EQ(changes, 0);
}

TEST(SyncedStore, OpenRefusesASavedSliceOfAnotherDeviceOrType) {
  auto mem = std::make_shared<MemoryPersistence>();
  StoreOptions o;
  o.persistence = mem;
  ASSERT_TRUE(mem->save(remote(9, 5, p(1))).isOk());
  EXPECT_EQ(PosStore::open("pos", device(1), o).status().code(), Code::kInvalidArgument);
  ASSERT_TRUE(mem->save(DeviceSlice{device(1), 5, kWall, toBytes("garbage")}).isOk());
  EXPECT_EQ(PosStore::open("pos", device(1), o).status().code(), Code::kMalformed);
}

TEST(SyncedStore, ConcurrentWritersAndReadersAreSafe) {
  PosStore s("pos", device(1));
  std::atomic<int> changes{0}, events{0};
  s.setLocalChangeListener([&] { ++changes; });
  ListenerHandle h = s.listen([&](const PosStore::Event&) { ++events; });
  constexpr int kThreads = 4, kWrites = 500;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kWrites; ++i) {
        ASSERT_TRUE(s.set(p(t, i)).isOk());
        (void)s.all();
        (void)s.localSlice();
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(changes.load(), kThreads * kWrites);
  EXPECT_EQ(events.load(), kThreads * kWrites);
  EXPECT_EQ(s.stats().local_writes, uint64_t(kThreads * kWrites));
  EXPECT_EQ(s.local().y, kWrites - 1);
}

TEST(RawStore, KeepsBytesAsTheyAre) {
  RawStore s("json", device(1));
  const Bytes text = toBytes("{\"temp\": 21.5}");
  ASSERT_TRUE(s.set(text).isOk());
  EXPECT_EQ(s.localSlice().data, text);
  EXPECT_EQ(s.applyRemoteSlice(DeviceSlice{device(2), 1, kWall, toBytes("anything")}), ApplyResult::kApplied);
  EXPECT_EQ(s.get(device(2)), toBytes("anything"));
  EXPECT_EQ(s.set(Bytes(kMaxSliceData + 1)).code(), Code::kTooLarge);
}

}  // namespace
}  // namespace meshslice
