// MeshSlice (store/mesh_slice.h): two facades on 127.0.0.1 sync stores; stores come and go from
// several threads and from the loop thread; removal stops sync; teardown order is safe. Every
// wait is on store events with a deadline; every mesh ends through a clean-close check.
#include "store/mesh_slice.h"

#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>
#include <thread>

#include "base/log.h"
#include "store/synced_store.h"
#include "tests/support/loop_helpers.h"
#include "tests/support/waiter.h"

namespace meshslice {
namespace {

using test::Waiter;

struct Text {
  std::string text;
  MSGPACK_DEFINE(text);
};
using TextStore = SyncedStore<Text>;

MeshSecret testSecret() {
  Key32 k;
  k.fill(0x3a);
  return MeshSecret::fromBytes(k);
}

std::unique_ptr<MeshSlice> makeMesh(const std::string& name, std::vector<std::string> peers = {}) {
  MeshSliceOptions o;
  o.node.mesh.static_peers = std::move(peers);
  return std::make_unique<MeshSlice>(Identity::generate(name), testSecret(), std::move(o));
}

// A store whose every event wakes `waiter`, so tests can wait for its contents.
struct Watched {
  Watched(Waiter& w, const std::string& id, const DeviceId& local)
      : store(id, local), handle(store.listen([&w](const TextStore::Event&) { w.update([] {}); })) {}
  std::string textOf(const DeviceId& device) const {
    auto v = store.get(device);
    return v ? v->text : std::string();
  }
  TextStore store;
  ListenerHandle handle;
};

TEST(MeshSlice, TwoMeshesOnLoopbackSyncAStoreAddedBeforeAndAfterStart) {
  Waiter w;
  auto a = makeMesh("a");
  Watched on_a(w, "greeting", a->id());
  ASSERT_TRUE(a->addStore(on_a.store).isOk());  // before start: registered by start()
  ASSERT_TRUE(a->start().isOk());
  auto b = makeMesh("b", {a->listenAddress()});
  Watched on_b(w, "greeting", b->id());
  ASSERT_TRUE(b->start().isOk());
  ASSERT_TRUE(b->addStore(on_b.store).isOk());  // after start: through the loop
  ASSERT_TRUE(on_a.store.set({"from a"}).isOk());
  ASSERT_TRUE(on_b.store.set({"from b"}).isOk());
  EXPECT_TRUE(w.waitFor([&] { return on_a.textOf(b->id()) == "from b" && on_b.textOf(a->id()) == "from a"; }));
  EXPECT_EQ(a->peers().size(), 1u);
  EXPECT_EQ(b->addStore(on_b.store).code(), Code::kAlreadyExists);

  test::stopAndExpectCleanClose(*b);  // goodbye: a drops b's slice at once
  EXPECT_TRUE(w.waitFor([&] { return !on_a.store.get(b->id()); }));
  test::stopAndExpectCleanClose(*a);
}

TEST(MeshSlice, RemoveStoreStopsItsSyncAndAddingItAgainResumes) {
  Waiter w;
  auto a = makeMesh("a");
  ASSERT_TRUE(a->start().isOk());
  auto b = makeMesh("b", {a->listenAddress()});
  ASSERT_TRUE(b->start().isOk());
  Watched doc_a(w, "doc", a->id()), marker_a(w, "marker", a->id());
  Watched doc_b(w, "doc", b->id()), marker_b(w, "marker", b->id());
  ASSERT_TRUE(a->addStore(doc_a.store).isOk());
  ASSERT_TRUE(a->addStore(marker_a.store).isOk());
  ASSERT_TRUE(b->addStore(doc_b.store).isOk());
  ASSERT_TRUE(b->addStore(marker_b.store).isOk());
  ASSERT_TRUE(doc_b.store.set({"v1"}).isOk());
  ASSERT_TRUE(w.waitFor([&] { return doc_a.textOf(b->id()) == "v1"; }));

  ASSERT_TRUE(a->removeStore("doc").isOk());
  EXPECT_TRUE(doc_a.store.remoteSlices().empty()) << "removal clears the store's remote slices";
  EXPECT_EQ(a->removeStore("doc").code(), Code::kNotFound);
  // b writes doc, then marker: one link, in order, so once a has the marker it would have had
  // the doc too, had it still been synced.
  ASSERT_TRUE(doc_b.store.set({"v2"}).isOk());
  ASSERT_TRUE(marker_b.store.set({"after v2"}).isOk());
  ASSERT_TRUE(w.waitFor([&] { return marker_a.textOf(b->id()) == "after v2"; }));
  EXPECT_FALSE(doc_a.store.get(b->id())) << "a removed store still received a slice";

  ASSERT_TRUE(a->addStore(doc_a.store).isOk());  // the store's join exchange fetches v2
  EXPECT_TRUE(w.waitFor([&] { return doc_a.textOf(b->id()) == "v2"; }));
  test::stopAndExpectCleanClose(*b);
  test::stopAndExpectCleanClose(*a);
}

// Each thread adds and removes its own store in a loop, and all of them compete for one store
// ID; b syncs every ID meanwhile. Bounded by count and by time.
TEST(MeshSlice, StoresAddedAndRemovedFromManyThreadsWhileTheLoopRunsStayConsistent) {
  constexpr int kThreads = 4, kRounds = 150;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  Waiter w;
  auto a = makeMesh("a");
  ASSERT_TRUE(a->start().isOk());
  auto b = makeMesh("b", {a->listenAddress()});
  ASSERT_TRUE(b->start().isOk());
  std::vector<std::unique_ptr<Watched>> own_a, own_b, shared_a;
  for (int t = 0; t < kThreads; ++t) {
    const std::string id = "own-" + std::to_string(t);
    own_a.push_back(std::make_unique<Watched>(w, id, a->id()));
    own_b.push_back(std::make_unique<Watched>(w, id, b->id()));
    ASSERT_TRUE(b->addStore(own_b.back()->store).isOk());
    shared_a.push_back(std::make_unique<Watched>(w, "shared", a->id()));  // same ID, one object each
  }
  Watched shared_b(w, "shared", b->id());
  ASSERT_TRUE(b->addStore(shared_b.store).isOk());
  // b writes every store, so a applies slices while its threads add and remove them.
  ASSERT_TRUE(shared_b.store.set({"b's shared"}).isOk());
  for (auto& own : own_b) ASSERT_TRUE(own->store.set({"b's own"}).isOk());

  struct Tally {
    int own_failures = 0, shared_added = 0, shared_refused = 0, shared_other = 0, rounds = 0;
    bool timed_out = false;
  };
  std::vector<Tally> tallies(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Tally& tally = tallies[t];
      TextStore& own = own_a[t]->store;
      for (int round = 0; round < kRounds; ++round) {
        if (std::chrono::steady_clock::now() > deadline) {
          tally.timed_out = true;
          return;
        }
        if (!a->addStore(own).isOk()) ++tally.own_failures;
        if (!own.set({"round " + std::to_string(round)}).isOk()) ++tally.own_failures;
        Status shared = a->addStore(shared_a[t]->store);
        if (shared.isOk()) {
          ++tally.shared_added;
          if (!a->removeStore("shared").isOk()) ++tally.shared_other;
        } else if (shared.code() == Code::kAlreadyExists) {
          ++tally.shared_refused;
        } else {
          ++tally.shared_other;
        }
        if (!a->removeStore(own.storeId()).isOk()) ++tally.own_failures;
        ++tally.rounds;
      }
      // The last word: registered again, with a value b must get.
      if (!a->addStore(own).isOk() || !own.set({"final"}).isOk()) ++tally.own_failures;
    });
  }
  for (auto& thread : threads) thread.join();
  int shared_added = 0;
  for (int t = 0; t < kThreads; ++t) {
    const Tally& tally = tallies[t];
    EXPECT_FALSE(tally.timed_out) << "thread " << t << " ran out of time after " << tally.rounds << " rounds";
    EXPECT_EQ(tally.rounds, kRounds);
    EXPECT_EQ(tally.own_failures, 0) << "thread " << t;
    EXPECT_EQ(tally.shared_other, 0) << "thread " << t << ": only ok or kAlreadyExists, and removal of an added one works";
    EXPECT_EQ(tally.shared_added + tally.shared_refused, kRounds);
    shared_added += tally.shared_added;
  }
  EXPECT_GT(shared_added, 0);
  EXPECT_TRUE(w.waitFor([&] {
    for (int t = 0; t < kThreads; ++t)
      if (own_b[t]->textOf(a->id()) != "final") return false;
    return true;
  })) << "b did not get every thread's final value";
  for (const auto& s : shared_a) EXPECT_TRUE(s->store.remoteSlices().empty()) << "every shared store was removed";
  test::stopAndExpectCleanClose(*b);
  test::stopAndExpectCleanClose(*a);
}

// From a store listener (the loop thread): addStore runs inline; removeStore and stop refuse
// at once (kWrongThread, std::logic_error) instead of deadlocking or pulling a store out from
// under the sync that is calling the listener.
TEST(MeshSlice, OnTheLoopThreadAddStoreRunsInlineAndRemoveStoreAndStopRefuse) {
  Waiter w;
  auto a = makeMesh("a");
  TextStore first("first", a->id());
  Watched second(w, "second", a->id());
  struct Seen {
    bool ran = false, on_loop = false;
    Code added = Code::kInternal, removed = Code::kOk;
    std::string stop_error;
  } seen;
  ListenerHandle on_first = first.listen([&](const TextStore::Event& e) {
    if (!std::holds_alternative<TextStore::PeerUpdated>(e)) return;
    Seen here;
    here.ran = true;
    here.on_loop = a->onLoopThread();
    here.added = a->addStore(second.store).code();
    here.removed = a->removeStore("first").code();
    try {
      a->stop();
    } catch (const std::logic_error& error) {
      here.stop_error = error.what();
    }
    w.update([&] {
      if (!seen.ran) seen = here;
    });
  });
  ASSERT_TRUE(a->addStore(first).isOk());
  ASSERT_TRUE(a->start().isOk());
  auto b = makeMesh("b", {a->listenAddress()});
  TextStore first_b("first", b->id()), second_b("second", b->id());
  ASSERT_TRUE(first_b.set({"hello"}).isOk());
  ASSERT_TRUE(second_b.set({"late store"}).isOk());
  ASSERT_TRUE(b->addStore(first_b).isOk());
  ASSERT_TRUE(b->addStore(second_b).isOk());
  ASSERT_TRUE(b->start().isOk());
  ASSERT_TRUE(w.waitFor([&] { return seen.ran; })) << "the listener did not run (or the loop deadlocked)";
  EXPECT_TRUE(seen.on_loop);
  EXPECT_EQ(seen.added, Code::kOk);
  EXPECT_EQ(seen.removed, Code::kWrongThread);
  EXPECT_NE(seen.stop_error.find("loop thread"), std::string::npos) << seen.stop_error;
  // The store added inside the callback syncs; the one it failed to remove still does.
  EXPECT_TRUE(w.waitFor([&] { return second.textOf(b->id()) == "late store"; }));
  EXPECT_TRUE(first.get(b->id()).has_value());
  on_first.reset();
  test::stopAndExpectCleanClose(*b);
  test::stopAndExpectCleanClose(*a);
}

TEST(MeshSlice, DestroyingARunningMeshLetsGoOfItsStoresWhichStayUsable) {
  Waiter w;
  auto a = makeMesh("a");
  ASSERT_TRUE(a->start().isOk());
  auto b = makeMesh("b", {a->listenAddress()});
  ASSERT_TRUE(b->start().isOk());
  Watched on_a(w, "s", a->id()), on_b(w, "s", b->id());
  ASSERT_TRUE(a->addStore(on_a.store).isOk());
  ASSERT_TRUE(b->addStore(on_b.store).isOk());
  ASSERT_TRUE(on_a.store.set({"a"}).isOk());
  ASSERT_TRUE(on_b.store.set({"b"}).isOk());
  ASSERT_TRUE(w.waitFor([&] { return on_a.textOf(b->id()) == "b" && on_b.textOf(a->id()) == "a"; }));

  // A store declared after its mesh dies first: removeStore() makes that safe (ASan checks).
  {
    auto late = std::make_unique<TextStore>("late", b->id());
    ASSERT_TRUE(b->addStore(*late).isOk());
    ASSERT_TRUE(late->set({"short-lived"}).isOk());
    ASSERT_TRUE(b->removeStore("late").isOk());
  }
  ASSERT_TRUE(on_b.store.set({"b2"}).isOk());  // b keeps running with the store gone
  ASSERT_TRUE(w.waitFor([&] { return on_a.textOf(b->id()) == "b2"; }));

  b.reset();  // destructor: stop, goodbyes, stores let go while registered
  EXPECT_TRUE(on_b.store.remoteSlices().empty());
  EXPECT_TRUE(on_b.store.set({"after the mesh"}).isOk());
  EXPECT_EQ(on_b.textOf(on_b.store.localDevice()), "after the mesh");
  EXPECT_TRUE(w.waitFor([&] { return !on_a.store.get(on_b.store.localDevice()); }));
  test::stopAndExpectCleanClose(*a);
}

// With a host loop the host's thread is the loop thread: every call runs inline there, and
// removeStore() is allowed (outside callbacks).
TEST(MeshSlice, OnAHostLoopEveryCallRunsInlineOnTheHostThread) {
  EventLoop host;
  {
    Waiter w;
    auto other = makeMesh("threaded");
    Watched on_other(w, "s", other->id());
    ASSERT_TRUE(other->addStore(on_other.store).isOk());
    ASSERT_TRUE(other->start().isOk());
    ASSERT_TRUE(on_other.store.set({"threaded"}).isOk());
    MeshSliceOptions o;
    o.node.host_loop = host.uv();
    o.node.mesh.static_peers = {other->listenAddress()};
    Identity identity = Identity::generate("embedded");
    TextStore s("s", identity.deviceId());
    MeshSlice embedded(std::move(identity), testSecret(), o);
    ASSERT_TRUE(embedded.start().isOk());
    ASSERT_TRUE(embedded.addStore(s).isOk());
    ASSERT_TRUE(s.set({"embedded"}).isOk());
    ASSERT_TRUE(test::runUntil(host, [&] {
      auto mine = on_other.store.get(s.localDevice());
      return mine && mine->text == "embedded" && s.get(other->id()).has_value();
    }));
    ASSERT_TRUE(embedded.removeStore("s").isOk());
    EXPECT_TRUE(s.remoteSlices().empty());
    EXPECT_EQ(embedded.removeStore("s").code(), Code::kNotFound);
    embedded.stop();
    ASSERT_TRUE(test::runUntil(host, [&] { return embedded.stopped(); }));
    test::stopAndExpectCleanClose(*other);
  }
  test::expectCleanClose(host);
}

TEST(MeshSlice, LifecycleCallsReportWhereTheMeshIs) {
  auto a = makeMesh("a");
  TextStore s("s", a->id()), twin("s", a->id());
  ASSERT_TRUE(a->addStore(s).isOk());
  EXPECT_EQ(a->addStore(twin).code(), Code::kAlreadyExists);
  EXPECT_EQ(a->removeStore("nope").code(), Code::kNotFound);
  ASSERT_TRUE(a->removeStore("s").isOk());  // before start: just forgotten
  ASSERT_TRUE(a->addStore(s).isOk());
  ASSERT_TRUE(a->start().isOk());
  EXPECT_EQ(a->start().code(), Code::kAlreadyExists);
  EXPECT_EQ(a->addStore(twin).code(), Code::kAlreadyExists);
  test::stopAndExpectCleanClose(*a);
  a->stop();  // idempotent
  EXPECT_EQ(a->addStore(twin).code(), Code::kClosed);
  EXPECT_EQ(a->removeStore("s").code(), Code::kClosed);

  auto never = makeMesh("never");  // stopped without a start: nothing to do, nothing left
  ASSERT_TRUE(never->addStore(twin).isOk());
  never->stop();
  EXPECT_EQ(never->addStore(twin).code(), Code::kClosed);
}

TEST(MeshSlice, AFailedStartRegistersNothingAndClosesTheMesh) {
  auto first = makeMesh("first");
  ASSERT_TRUE(first->start().isOk());
  MeshSliceOptions o;
  o.node.mesh.listen_address = first->listenAddress();  // taken
  MeshSlice second(Identity::generate("second"), testSecret(), o);
  TextStore s("s", second.id());
  ASSERT_TRUE(second.addStore(s).isOk());
  EXPECT_FALSE(second.start().isOk());
  EXPECT_EQ(second.addStore(s).code(), Code::kClosed);
  second.stop();
  test::stopAndExpectCleanClose(*first);
}

}  // namespace
}  // namespace meshslice
