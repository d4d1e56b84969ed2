// The node process of meshslice_bench (`meshslice_bench --child ...`): one MeshNode with
// --stores raw stores synced by a StoreSyncAdapter, driven by line commands on stdin and
// reporting on stdout. Slice values written by the benchmark start with a CLOCK_MONOTONIC stamp
// and a kind byte, so receivers measure propagation against the sender's clock.
//
// Flags: --name N --invite I [--peer host:port]... [--stores S] [--tput-stores T] [--expect K]
//        [--initial-size B] [--sync-min-size B] [--listen ADDR] [--liveness-ms MS]
//        [--mdns-port P] [--mdns-iface IF]   (mDNS on IF, default lo, when either is given)
//        [--delta-sizes S,..] [--no-deltas 1]   (delta cells: tools/bench_delta_node.h)
// Lines out: LISTEN <addr> <id> start_ns=.. listen_ns=..   JOINED <id> ns=..
//            SYNCED ns=..   (K remote slices of at least --sync-min-size bytes held; once per
//                            start or `fill`)
//            LEFT <id> <reason> ns=..   SENT n=.. ns=..   FILLED ns=..   REPORT ...   STOPPED
// Commands:  fill SIZE                every one of this node's --stores gets a SIZE-byte
//                                     value; SYNCED again once K remote slices are that large
//            lat SIZE COUNT RATE      paced set()s of SIZE-byte values on store 0
//            latloop SIZE COUNT RATE  the same, called on the node's loop thread
//            burst SIZE SECONDS RATE  RATE set()s per second (0: as fast as possible),
//                                     round-robin over the --tput-stores throughput stores
//            bulk SIZE SECONDS        64 KiB-class bus messages to every peer, flow-controlled
//            report                   what this node received since the last report
//            quit                     graceful stop
#pragma once

#include <cstring>
#include <iostream>
#include <map>
#include <mutex>
#include <set>

#include "mesh/mesh_node.h"
#include "store/store_sync_adapter.h"
#include "store/synced_store.h"
#include "tools/bench_delta_node.h"
#include "tools/bench_support.h"

namespace meshslice::bench {

constexpr uint8_t kKindInitial = 0, kKindLatency = 1, kKindThroughput = 2;
constexpr size_t kStampBytes = 8 + 1 + 4;  // stamp, kind, sequence
constexpr char kBulkNamespace[] = "bench.bulk";

inline std::mutex g_out_mutex;
inline void emitLine(const std::string& line) {
  std::lock_guard<std::mutex> lock(g_out_mutex);
  std::fputs((line + "\n").c_str(), stdout);
  std::fflush(stdout);
}

inline Bytes stampedValue(size_t size, uint8_t kind, uint32_t seq) {
  Bytes v(std::max(size, kStampBytes), 0x5a);
  int64_t t = monoNs();
  std::memcpy(v.data(), &t, 8);
  v[8] = kind;
  std::memcpy(v.data() + 9, &seq, 4);
  return v;
}

// What this node received; written on the loop thread, read by the command thread.
struct Received {
  std::mutex mutex;
  std::vector<double> latency_us;
  uint64_t tput = 0;
  int64_t tput_first = 0, tput_last = 0;
  uint64_t bulk = 0, bulk_bytes = 0;
  int64_t bulk_first = 0, bulk_last = 0;
  std::string take() {
    std::lock_guard<std::mutex> lock(mutex);
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  "REPORT lat_n=%zu p50_us=%.1f p99_us=%.1f p999_us=%.1f tput_n=%llu tput_first=%lld "
                  "tput_last=%lld bulk_n=%llu bulk_bytes=%llu bulk_first=%lld bulk_last=%lld",
                  latency_us.size(), percentile(latency_us, 0.5), percentile(latency_us, 0.99),
                  percentile(latency_us, 0.999), static_cast<unsigned long long>(tput),
                  static_cast<long long>(tput_first), static_cast<long long>(tput_last),
                  static_cast<unsigned long long>(bulk), static_cast<unsigned long long>(bulk_bytes),
                  static_cast<long long>(bulk_first), static_cast<long long>(bulk_last));
    latency_us.clear();
    tput = bulk = bulk_bytes = 0;
    tput_first = tput_last = bulk_first = bulk_last = 0;
    return buf;
  }
};

// Prints peer events; on the loop thread.
class EventPrinter final : public PeerObserver {
 public:
  void onPeerJoined(const PeerJoined& e) override {
    emitLine("JOINED " + e.peer.id.shortString() + " ns=" + std::to_string(monoNs()));
  }
  void onPeerLeft(const PeerLeft& e) override {
    emitLine("LEFT " + e.id.shortString() + " " + leaveReasonName(e.reason) + " ns=" + std::to_string(monoNs()));
  }
};

// Sends bulk messages to every peer while less than kWindow bytes are queued towards it,
// checking again every millisecond until the deadline. Loop thread only.
class BulkPump {
 public:
  static constexpr size_t kWindow = 2 * 1024 * 1024;
  BulkPump(MeshCore& core, Env& env, size_t size, int64_t until_ns)
      : core_(core), payload_(size, 0x77), until_ns_(until_ns) {
    timer_ = env.newTimer([this] { pump(); });
    pump();
  }
  uint64_t sent() const { return sent_; }
  bool done() const { return done_; }

 private:
  void pump() {
    if (monoNs() >= until_ns_) {
      done_ = true;
      emitLine("SENT n=" + std::to_string(sent_) + " ns=" + std::to_string(monoNs()));
      return;
    }
    for (const DeviceId& peer : core_.connectedPeers()) {
      while (core_.pendingBytesTo(peer) < kWindow) {
        if (!core_.bus().send(peer, kBulkNamespace, payload_).isOk()) break;
        ++sent_;
      }
    }
    timer_->start(1 * kMillis);
  }
  MeshCore& core_;
  Bytes payload_;
  int64_t until_ns_;
  std::unique_ptr<Timer> timer_;
  uint64_t sent_ = 0;
  bool done_ = false;
};

// Calls set() on the node's own loop thread from a timer, `count` times every `period`: the
// latency of a write made where the node runs (an embedding host loop, the daemon's control
// socket), without a wake-up of the loop thread by another thread.
class LoopPacer {
 public:
  LoopPacer(Env& env, RawStore& store, size_t size, size_t count, Micros period, std::function<void()> done)
      : env_(env), store_(store), size_(size), count_(count), period_(period), done_(std::move(done)),
        start_(env.now()) {
    timer_ = env_.newTimer([this] { fire(); });
    timer_->start(0);
  }

 private:
  void fire() {
    store_.set(stampedValue(size_, kKindLatency, static_cast<uint32_t>(sent_))).ignore();
    if (++sent_ >= count_) return done_();
    timer_->start(start_ + static_cast<Micros>(sent_) * period_ - env_.now());
  }
  Env& env_;
  RawStore& store_;
  size_t size_, count_;
  Micros period_;
  std::function<void()> done_;
  Micros start_;
  size_t sent_ = 0;
  std::unique_ptr<Timer> timer_;
};

class BenchNode {
 public:
  BenchNode(const std::map<std::string, std::string>& flags, const std::vector<std::string>& peers)
      : flags_(flags), peers_(peers) {}

  int run() {
    const int64_t start_ns = monoNs();
    auto secret = MeshSecret::fromInvite(flag("invite", ""));
    if (!secret) return fatal(secret.status().toString());
    MeshNodeOptions opts;
    opts.mesh.static_peers = peers_;
    if (flags_.count("listen")) opts.mesh.listen_address = flags_.at("listen");
    if (flags_.count("liveness-ms")) opts.mesh.liveness_timeout = std::stol(flags_.at("liveness-ms")) * kMillis;
    if (flags_.count("mdns-port") || flags_.count("mdns-iface")) {
      opts.mdns = true;
      opts.mdns_options.interfaces = {flag("mdns-iface", "lo")};
      opts.mdns_options.port = static_cast<uint16_t>(std::stoi(flag("mdns-port", "5353")));
      opts.mdns_options.ipv6 = false;
    }
    const size_t n_stores = std::stoul(flag("stores", "4"));
    const size_t n_tput = std::max<size_t>(1, std::stoul(flag("tput-stores", "64")));
    const size_t initial_size = std::clamp<size_t>(std::stoul(flag("initial-size", "64")), kStampBytes, kMaxSliceData);
    expect_ = std::stoul(flag("expect", "0"));
    sync_min_size_ = std::stoul(flag("sync-min-size", "0"));
    MeshNode node(Identity::generate(flag("name", "bench")), secret.value(), opts);
    node.addObserver(&printer_);
    for (size_t i = 0; i < n_stores; ++i) {
      stores_.push_back(std::make_unique<RawStore>("s" + std::to_string(i), node.id()));
      handles_.push_back(stores_.back()->listen([this, i](const RawStore::Event& e) { onEvent(i, e); }));
    }
    // Throughput stores hold nothing until a burst: they do not count towards --expect.
    for (size_t i = 0; i < n_tput; ++i) {
      tput_stores_.push_back(std::make_unique<RawStore>("t" + std::to_string(i), node.id()));
      handles_.push_back(tput_stores_.back()->listen([this](const RawStore::Event& e) { onEvent(SIZE_MAX, e); }));
    }
    if (flags_.count("delta-sizes")) {
      std::vector<size_t> sizes;
      for (const auto& x : splitComma(flags_.at("delta-sizes"))) sizes.push_back(std::stoul(x));
      deltas_ = std::make_unique<DeltaStores>(sizes, node.id(), emitLine);
    }
    Status st = node.start();
    if (!st.isOk()) return fatal(st.toString());
    auto sub = node.subscribe(kBulkNamespace, [this](const BusMessageEvent& m) { onBulk(m); });
    if (!sub) return fatal(sub.status().toString());
    bulk_sub_ = std::move(sub).value();
    node.call([&](MeshCore& core) {
      AdapterOptions ao;
      if (flags_.count("max-pending-kb")) ao.max_pending_bytes_per_peer = std::stoul(flags_.at("max-pending-kb")) * 1024;
      ao.deltas = !flags_.count("no-deltas");
      adapter_ = std::make_unique<StoreSyncAdapter>(node.env(), core, ao);
      for (auto& s : stores_) adapter_->addStore(*s).ignore();
      for (auto& s : tput_stores_) adapter_->addStore(*s).ignore();
      if (deltas_)
        for (auto& s : deltas_->stores()) adapter_->addStore(*s).ignore();
      return 0;
    });
    emitLine("LISTEN " + node.listenAddress() + " " + node.id().shortString() + " start_ns=" +
             std::to_string(start_ns) + " listen_ns=" + std::to_string(monoNs()));
    for (auto& s : stores_) s->set(stampedValue(initial_size, kKindInitial, 0)).ignore();
    commands(node);
    node.call([&](MeshCore&) {
      bulk_.reset();
      pacer_.reset();
      bulk_sub_.reset();
      adapter_->stop();
      adapter_.reset();
      return 0;
    });
    node.stop();
    emitLine("STOPPED");
    return 0;
  }

 private:
  static size_t pendingTotal(MeshCore& core) {
    size_t total = 0;
    for (const DeviceId& peer : core.connectedPeers()) total += core.pendingBytesTo(peer);
    return total;
  }
  std::string flag(const std::string& k, const std::string& d) const {
    return flags_.count(k) ? flags_.at(k) : d;
  }
  static int fatal(const std::string& why) {
    std::fprintf(stderr, "meshslice_bench node: %s\n", why.c_str());
    return 1;
  }

  // Loop thread. Counts the remote slices of the --stores stores that are at least
  // sync_min_size_ bytes; SYNCED when there are --expect of them (once per arming).
  void hold(size_t store, const DeviceId& device, size_t size, int64_t now) {
    auto [it, fresh] = held_.try_emplace({store, device}, 0);
    if (!fresh && it->second >= sync_min_size_) --held_big_;
    it->second = size;
    if (size >= sync_min_size_) ++held_big_;
    checkSynced(now);
  }
  void checkSynced(int64_t now) {
    if (!armed_ || !expect_ || held_big_ < expect_) return;
    armed_ = false;
    emitLine("SYNCED ns=" + std::to_string(now));
  }
  // Loop thread: from now on SYNCED needs slices of at least `size` bytes.
  void rearm(size_t size) {
    sync_min_size_ = size;
    held_big_ = 0;
    for (const auto& [key, bytes] : held_) held_big_ += bytes >= size;
    armed_ = true;
  }

  void onEvent(size_t store, const RawStore::Event& e) {
    if (auto* u = std::get_if<RawStore::PeerUpdated>(&e)) {
      const int64_t now = monoNs();
      if (store != SIZE_MAX) hold(store, u->device, u->value.size(), now);
      if (u->value.size() < kStampBytes) return;
      int64_t stamp;
      std::memcpy(&stamp, u->value.data(), 8);
      std::lock_guard<std::mutex> lock(received_.mutex);
      if (u->value[8] == kKindLatency) {
        received_.latency_us.push_back(static_cast<double>(now - stamp) / 1000.0);
      } else if (u->value[8] == kKindThroughput) {
        if (received_.tput++ == 0) received_.tput_first = now;
        received_.tput_last = now;
      }
    } else if (auto* r = std::get_if<RawStore::PeerRemoved>(&e)) {
      auto it = held_.find({store, r->device});
      if (it == held_.end()) return;
      if (it->second >= sync_min_size_) --held_big_;
      held_.erase(it);
    }
  }

  void onBulk(const BusMessageEvent& m) {
    const int64_t now = monoNs();
    std::lock_guard<std::mutex> lock(received_.mutex);
    if (received_.bulk++ == 0) received_.bulk_first = now;
    received_.bulk_last = now;
    received_.bulk_bytes += m.payload.size();
  }

  // set()s round-robin over the throughput stores for `seconds`: `rate` per second in 1 ms
  // ticks, or as fast as this thread can when `rate` is 0. Returns how many.
  uint64_t burst(size_t size, double seconds, size_t rate) {
    const int64_t start = monoNs(), end = start + static_cast<int64_t>(seconds * 1e9);
    const size_t per_tick = rate / 1000;
    uint64_t n = 0;
    for (int64_t tick = 0; monoNs() < end && n < 100000000; ++tick) {
      if (rate) sleepUntilNs(start + tick * 1000000);
      for (size_t i = 0; i < (rate ? per_tick : 64); ++i, ++n)
        tput_stores_[n % tput_stores_.size()]->set(stampedValue(size, kKindThroughput, static_cast<uint32_t>(n))).ignore();
    }
    return n;
  }

  void commands(MeshNode& node) {
    std::string line;
    while (std::getline(std::cin, line)) {
      std::istringstream in(line);
      std::string cmd;
      in >> cmd;
      if (deltas_ && deltas_->command(cmd, in)) {
        continue;
      } else if (cmd == "fill") {
        size_t size = 64;
        in >> size;
        size = std::clamp<size_t>(size, kStampBytes, kMaxSliceData);
        node.call([&](MeshCore&) {
          rearm(size);
          return 0;
        });
        for (auto& s : stores_) s->set(stampedValue(size, kKindInitial, 1)).ignore();
        emitLine("FILLED ns=" + std::to_string(monoNs()));
        node.call([&](MeshCore&) {
          checkSynced(monoNs());  // a mesh of one node has nothing to wait for
          return 0;
        });
      } else if (cmd == "lat") {
        size_t size = 0, count = 0, rate = 1;
        in >> size >> count >> rate;
        const int64_t start = monoNs(), period = 1000000000LL / static_cast<int64_t>(std::max<size_t>(rate, 1));
        for (size_t i = 0; i < std::min<size_t>(count, 1000000); ++i) {
          sleepUntilNs(start + static_cast<int64_t>(i) * period);
          stores_[0]->set(stampedValue(size, kKindLatency, static_cast<uint32_t>(i))).ignore();
        }
        emitLine("SENT n=" + std::to_string(count) + " ns=" + std::to_string(monoNs()));
      } else if (cmd == "latloop") {
        size_t size = 0, count = 0, rate = 1;
        in >> size >> count >> rate;
        auto done = std::make_shared<std::promise<void>>();
        node.call([&](MeshCore&) {
          pacer_ = std::make_unique<LoopPacer>(node.env(), *stores_[0], size, std::clamp<size_t>(count, 1, 1000000),
                                               kSeconds / static_cast<Micros>(std::max<size_t>(rate, 1)),
                                               [done] { done->set_value(); });
          return 0;
        });
        done->get_future().wait_for(std::chrono::seconds(120));
        node.call([&](MeshCore&) {
          pacer_.reset();
          return 0;
        });
        emitLine("SENT n=" + std::to_string(count) + " ns=" + std::to_string(monoNs()));
      } else if (cmd == "burst") {
        size_t size = 0, rate = 0;
        double seconds = 0;
        in >> size >> seconds >> rate;
        emitLine("SENT n=" + std::to_string(burst(size, std::min(seconds, 60.0), rate)) + " ns=" + std::to_string(monoNs()));
      } else if (cmd == "bulk") {
        size_t size = 0;
        double seconds = 0;
        in >> size >> seconds;
        const int64_t until = monoNs() + static_cast<int64_t>(std::min(seconds, 60.0) * 1e9);
        node.call([&](MeshCore& core) {
          bulk_ = std::make_unique<BulkPump>(core, node.env(), std::min<size_t>(size, kMaxPayloadSize), until);
          return 0;
        });
      } else if (cmd == "report") {
        std::string sync = node.call([&](MeshCore& core) {
          const SyncStats& st = adapter_->stats();
          return " sync_sent=" + std::to_string(st.slices_sent) + " sync_applied=" + std::to_string(st.slices_applied) +
                 " sync_stale=" + std::to_string(st.slices_stale) + " deferrals=" + std::to_string(st.deferrals) +
                 " unknown_store=" + std::to_string(st.slices_unknown_store) + " rejected=" + std::to_string(st.slices_rejected) +
                 " malformed=" + std::to_string(st.malformed) + " from_unlinked=" + std::to_string(st.from_unlinked) +
                 " send_errors=" + std::to_string(st.send_errors) + " held=" + std::to_string(held_big_) +
                 " deltas_sent=" + std::to_string(st.deltas_sent) + " deltas_applied=" + std::to_string(st.deltas_applied) +
                 " deltas_refused=" + std::to_string(st.deltas_refused) + " slice_bytes=" + std::to_string(st.slice_bytes_sent) +
                 " expect=" + std::to_string(expect_) + " pending=" + std::to_string(pendingTotal(core));
        });
        emitLine(received_.take() + sync);
      } else if (cmd == "quit") {
        break;
      }
    }
  }

  std::map<std::string, std::string> flags_;
  std::vector<std::string> peers_;
  EventPrinter printer_;
  std::vector<std::unique_ptr<RawStore>> stores_;
  std::vector<std::unique_ptr<RawStore>> tput_stores_;
  std::vector<ListenerHandle> handles_;
  std::unique_ptr<DeltaStores> deltas_;  // before the adapter: it outlives the registration
  std::unique_ptr<StoreSyncAdapter> adapter_;
  std::unique_ptr<BulkPump> bulk_;
  std::unique_ptr<LoopPacer> pacer_;  // loop thread
  Subscription bulk_sub_;  // reset on the loop thread
  std::map<std::pair<size_t, DeviceId>, size_t> held_;  // (store, device) -> value bytes; loop thread
  size_t held_big_ = 0;       // entries of held_ at least sync_min_size_ bytes; loop thread
  size_t sync_min_size_ = 0;  // loop thread once started
  bool armed_ = true;         // SYNCED not yet printed since the start or the last fill
  size_t expect_ = 0;
  Received received_;
};

}  // namespace meshslice::bench
