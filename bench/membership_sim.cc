// In-process simulation of the membership layer (mesh/membership.h) against today's link-only
// rule (MeshCore: heartbeat after 1 s without sending, checked every 250 ms; a peer is evicted
// after 3 s of silence on the direct link). docs/PERFORMANCE.md and docs/RELIABILITY.md show
// its table and how it was run.
//
// Model. Membership: every message is a datagram lost with probability p on every path,
// delayed uniformly in [delay_min, delay_max] (pessimistic: over the TCP links that will carry
// it, loss becomes delay instead). Link-only: heartbeats over TCP, each segment lost with p and
// retransmitted after an RTO of 200 ms that doubles, delivered in order (head-of-line), with
// the receiver's tick phase random. A "crash" is a frozen or unplugged member (no FIN: a killed
// process with a live kernel is detected by both in < 50 ms and is not modelled). A starved
// node stops processing for `stall` every 30 s; what was sent to it is read when it resumes
// (timers first, then input, as libuv does).
//
// Usage: membership_sim [--nodes 16,64,256] [--loss 0,5,10,20] [--minutes 10] [--trials 40]
//          [--profile default|fast|both] [--stall-ms 0] [--delay-us 200,2000] [--seed 1]
//          [--max-seconds 600] [--check]
// --check exits 1 when a membership row misses its targets (0 false evictions, median detection
// within the profile's bound); the smoke test uses it. Wall time is bounded by --max-seconds:
// rows left when it runs out are marked "(cut)".
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <queue>
#include <random>
#include <string>
#include <vector>

#include "base/fake_env.h"
#include "mesh/membership.h"

using namespace meshslice;

namespace {

struct Config {
  std::vector<size_t> nodes{16, 64, 256};
  std::vector<int> loss_pct{0, 5, 10, 20};
  double minutes = 10;
  size_t trials = 40;
  std::vector<std::pair<const char*, MembershipProfile>> profiles{{"default", kMembershipDefault}};
  Micros stall = 0;
  Micros delay_min = 200, delay_max = 2000;
  uint64_t seed = 1;
  double max_seconds = 600;
  bool check = false;
};

using Clock = std::chrono::steady_clock;
Clock::time_point g_deadline;
bool outOfTime() { return Clock::now() > g_deadline; }

DeviceId nodeId(size_t i) {
  DeviceId::Raw raw{};
  raw[0] = 0x5a;
  raw[1] = static_cast<uint8_t>(i >> 8);
  raw[2] = static_cast<uint8_t>(i);
  return DeviceId(raw);
}
size_t nodeIndex(const DeviceId& id) { return (size_t{id.bytes()[1]} << 8) | id.bytes()[2]; }

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return -1;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())));
  return v[i];
}

// One simulated mesh of Membership instances on one clock.
class Sim {
 public:
  Sim(size_t n, double loss, const MembershipProfile& profile, const Config& cfg, uint64_t seed)
      : env_(seed), rng_(seed * 7919 + 1), loss_(loss), cfg_(cfg), nodes_(n) {
    for (size_t i = 0; i < n; ++i) nodes_[i].m = std::make_unique<Membership>(env_, nodeId(i), profile);
    for (size_t i = 0; i < n; ++i) {
      for (size_t j = 0; j < n; ++j) {
        if (i != j) nodes_[i].m->linkUp(nodeId(j));
      }
      nodes_[i].m->takeVerdicts();
      schedule(i);
    }
  }

  // Runs until `until` or out of wall time. Returns false when cut.
  bool runUntil(Micros until) {
    size_t events = 0;
    while (!events_.empty() && events_.top().at <= until) {
      if (++events % 4096 == 0 && outOfTime()) return false;
      if (getenv("SIMDEBUG") && events % 200000 == 0) std::fprintf(stderr, "events %zu at %lld node %zu wake %d\n", events, static_cast<long long>(events_.top().at), events_.top().node, events_.top().wake);
      Event e = events_.top();
      events_.pop();
      if (e.at > env_.now()) env_.advance(e.at - env_.now());
      step(e);
    }
    if (until > env_.now()) env_.advance(until - env_.now());
    return true;
  }

  void crash(size_t i) {
    nodes_[i].crashed = true;
    if (getenv("SIMDEBUG")) {
      uint32_t sum = 0, mx = 0;
      for (auto& n : nodes_) sum += n.m->localHealth(), mx = std::max(mx, n.m->localHealth());
      std::fprintf(stderr, "crash: lhm avg %.2f max %u\n", sum / double(nodes_.size()), mx);
    }
  }
  void stall(size_t i, Micros length) { nodes_[i].stalled_until = env_.now() + length; }
  Micros now() { return env_.now(); }
  size_t size() const { return nodes_.size(); }

  // Dead verdicts about live members (the starved one counted apart), and crash detections.
  size_t false_evictions = 0, false_evictions_starved = 0;
  size_t starved = SIZE_MAX;
  size_t crashed = SIZE_MAX;
  Micros crashed_at = 0;
  std::vector<double> detect_ms;  // per observer
  uint64_t messages = 0;

 private:
  struct Node {
    std::unique_ptr<Membership> m;
    bool crashed = false;
    Micros stalled_until = 0;
    Micros wake_at = -1;
    std::vector<std::pair<DeviceId, MemberMessage>> inbox;  // arrived during a stall
  };
  struct Event {
    Micros at;
    uint64_t order;
    size_t node;
    bool wake;  // else a delivery
    DeviceId from;
    std::shared_ptr<MemberMessage> msg;
    bool operator>(const Event& o) const { return at != o.at ? at > o.at : order > o.order; }
  };

  void push(Event e) {
    e.order = order_++;
    events_.push(std::move(e));
  }

  void schedule(size_t i) {
    Node& n = nodes_[i];
    const Micros at = std::max(n.m->nextWakeup(), std::max(env_.now(), n.stalled_until));
    if (n.wake_at >= 0 && n.wake_at <= at && n.wake_at >= env_.now()) return;  // an earlier wake stands
    n.wake_at = at;
    push({at, 0, i, true, {}, nullptr});
  }

  void step(const Event& e) {
    Node& n = nodes_[e.node];
    if (n.crashed) return;
    const bool stalled = env_.now() < n.stalled_until;
    if (e.wake) {
      if (e.at != n.wake_at) return;  // superseded
      n.wake_at = -1;
      if (stalled) return schedule(e.node);
      n.m->tick();
      for (auto& [from, msg] : n.inbox) n.m->received(from, msg);
      n.inbox.clear();
    } else if (stalled) {
      n.inbox.emplace_back(e.from, *e.msg);
      return;
    } else {
      n.m->received(e.from, *e.msg);
    }
    flush(e.node);
    schedule(e.node);
  }

  void flush(size_t i) {
    Node& n = nodes_[i];
    for (MemberOutgoing& o : n.m->takeOutgoing()) {
      ++messages;
      if (std::uniform_real_distribution<double>(0, 1)(rng_) < loss_) continue;
      const Micros delay = std::uniform_int_distribution<Micros>(cfg_.delay_min, cfg_.delay_max)(rng_);
      push({env_.now() + delay, 0, nodeIndex(o.to), false, nodeId(i),
            std::make_shared<MemberMessage>(std::move(o.message))});
    }
    for (const MemberVerdict& v : n.m->takeVerdicts()) {
      if (v.state != MemberState::kDead) continue;
      const size_t about = nodeIndex(v.member);
      if (about == crashed) {
        detect_ms.push_back(static_cast<double>(env_.now() - crashed_at) / 1000.0);
        if (getenv("SIMDEBUG") && detect_ms.back() > 4000) std::fprintf(stderr, "slow %zu: %.0f ms lhm %u\n", i, detect_ms.back(), n.m->localHealth());
      } else if (about == starved) {
        ++false_evictions_starved;
      } else {
        ++false_evictions;
      }
    }
  }

  FakeEnv env_;
  std::mt19937_64 rng_;
  double loss_;
  const Config& cfg_;
  std::vector<Node> nodes_;
  std::priority_queue<Event, std::vector<Event>, std::greater<Event>> events_;
  uint64_t order_ = 0;
};

// Today's rule on one directed link; see the header comment.
struct LinkOnlyResult {
  size_t false_evictions = 0, false_evictions_starved = 0;
  std::vector<double> detect_ms;
};

constexpr Micros kHeartbeat = 1 * kSeconds, kLiveness = 3 * kSeconds, kTick = 250 * kMillis;
constexpr Micros kRto = 200 * kMillis;

// Arrival time of a segment sent at `t` over TCP with loss p (retransmit with doubling RTO).
Micros tcpArrival(Micros t, double p, Micros delay, std::mt19937_64& rng) {
  Micros rto = kRto;
  std::uniform_real_distribution<double> u(0, 1);
  for (int i = 0; i < 16 && u(rng) < p; ++i) {
    t += rto;
    rto = std::min<Micros>(rto * 2, 120 * kSeconds);
  }
  return t + delay;
}

// One directed link i -> j for `duration`. Sender ticks with phase ps, receiver with pr. With
// `stall_every` the sender is starved (no ticks, no sends) for `stall` every that often. Returns
// evictions; `crash_at` >= 0 freezes the sender then and returns the detection delay instead.
size_t linkOnly(Micros duration, double p, Micros stall, Micros stall_every, Micros crash_at,
                std::mt19937_64& rng, const Config& cfg, double* detect_ms) {
  std::uniform_int_distribution<Micros> phase(0, kTick - 1);
  std::uniform_int_distribution<Micros> delay(cfg.delay_min, cfg.delay_max);
  const Micros pr = phase(rng);
  Micros send = phase(rng), last_arrival = 0, heard = 0;
  size_t evictions = 0;
  // Receiver ticks at pr + k * kTick: the first tick at or after `t`.
  auto tickAt = [pr](Micros t) { return t <= pr ? pr : pr + ((t - pr + kTick - 1) / kTick) * kTick; };
  for (;;) {
    // The sender's next heartbeat: kHeartbeat after the last one, at its next tick, later if starved.
    Micros next = send + kHeartbeat;
    next = send + ((next - send + kTick - 1) / kTick) * kTick;
    if (stall > 0) {
      const Micros cycle_start = (next / stall_every) * stall_every;
      if (next >= cycle_start && next < cycle_start + stall) next = cycle_start + stall;
    }
    if (crash_at >= 0 && next >= crash_at) {
      *detect_ms = static_cast<double>(tickAt(heard + kLiveness) - crash_at) / 1000.0;
      return 0;
    }
    if (next >= duration) return evictions;
    const Micros arrival = std::max(last_arrival, tcpArrival(next, p, delay(rng), rng));
    // Evicted if a receiver tick sees >= kLiveness of silence before this arrives.
    if (tickAt(heard + kLiveness) < arrival) {
      ++evictions;
      heard = arrival;  // the link is redialed; count the next silence afresh
    } else {
      heard = arrival;
    }
    last_arrival = arrival;
    send = next;
  }
}

LinkOnlyResult runLinkOnly(size_t n, double p, const Config& cfg, Micros duration, uint64_t seed) {
  LinkOnlyResult r;
  std::mt19937_64 rng(seed);
  const Micros every = 30 * kSeconds;
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < n; ++j) {
      if (i == j) continue;
      // Node 0 is the starved one when stalls are on; its own stalled ticks do not judge.
      const bool starved_sender = cfg.stall > 0 && i == 0;
      const size_t e = linkOnly(duration, p, starved_sender ? cfg.stall : 0, every, -1, rng, cfg, nullptr);
      (starved_sender ? r.false_evictions_starved : r.false_evictions) += e;
    }
    if (outOfTime()) break;
  }
  for (size_t t = 0; t < cfg.trials * (n - 1); ++t) {
    double ms = 0;
    std::uniform_int_distribution<Micros> when(10 * kSeconds, 20 * kSeconds);
    linkOnly(60 * kSeconds, p, 0, every, when(rng), rng, cfg, &ms);
    r.detect_ms.push_back(ms);
  }
  return r;
}

struct Row {
  size_t false_evictions = 0, false_evictions_starved = 0;
  std::vector<double> detect_ms, detect_all_ms;
  double minutes = 0;
  uint64_t messages = 0;
  bool cut = false;
};

Row runMembership(size_t n, double p, const MembershipProfile& profile, const Config& cfg, uint64_t seed) {
  Row row;
  {
    Sim sim(n, p, profile, cfg, seed);
    if (cfg.stall > 0) sim.starved = 0;
    const Micros start = sim.now(), total = static_cast<Micros>(cfg.minutes * 60 * kSeconds);
    Micros t = start;
    while (t < start + total) {
      t += 30 * kSeconds;
      if (cfg.stall > 0 && !sim.runUntil(t - 30 * kSeconds + 10 * kSeconds)) {
        row.cut = true;
        break;
      }
      if (cfg.stall > 0) sim.stall(0, cfg.stall);
      if (!sim.runUntil(std::min(t, start + total))) {
        row.cut = true;
        break;
      }
    }
    row.minutes = static_cast<double>(sim.now() - start) / (60.0 * kSeconds);
    row.false_evictions = sim.false_evictions;
    row.false_evictions_starved = sim.false_evictions_starved;
    row.messages = sim.messages;
  }
  std::mt19937_64 pick(seed);
  for (size_t t = 0; t < cfg.trials && !outOfTime(); ++t) {
    Sim sim(n, p, profile, cfg, seed + 1000 + t);
    sim.runUntil(sim.now() + 5 * kSeconds + static_cast<Micros>(pick() % kSeconds));
    sim.crashed = 1 + pick() % (n - 1);
    sim.crashed_at = sim.now();
    sim.crash(sim.crashed);
    sim.runUntil(sim.now() + 20 * kSeconds);
    row.false_evictions += sim.false_evictions;
    for (double d : sim.detect_ms) row.detect_ms.push_back(d);
    row.detect_all_ms.push_back(sim.detect_ms.size() == n - 1 ? *std::max_element(sim.detect_ms.begin(), sim.detect_ms.end()) : 1e9);
  }
  return row;
}

std::vector<size_t> parseList(const char* s) {
  std::vector<size_t> out;
  for (const char* p = s; *p;) {
    char* end = nullptr;
    out.push_back(std::strtoul(p, &end, 10));
    if (end == p) break;
    p = *end == ',' ? end + 1 : end;
  }
  return out;
}

bool parseArgs(int argc, char** argv, Config& cfg) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    const char* v = a == "--check" ? "" : value();
    if (!v) {
      std::fprintf(stderr, "membership_sim: %s needs a value\n", a.c_str());
      return false;
    }
    if (a == "--nodes") {
      cfg.nodes = parseList(v);
    } else if (a == "--loss") {
      cfg.loss_pct.clear();
      for (size_t x : parseList(v)) cfg.loss_pct.push_back(static_cast<int>(x));
    } else if (a == "--minutes") {
      cfg.minutes = std::atof(v);
    } else if (a == "--trials") {
      cfg.trials = std::strtoul(v, nullptr, 10);
    } else if (a == "--stall-ms") {
      cfg.stall = std::atoll(v) * kMillis;
    } else if (a == "--seed") {
      cfg.seed = std::strtoull(v, nullptr, 10);
    } else if (a == "--max-seconds") {
      cfg.max_seconds = std::atof(v);
    } else if (a == "--delay-us") {
      auto d = parseList(v);
      if (d.size() != 2 || d[0] > d[1]) return false;
      cfg.delay_min = static_cast<Micros>(d[0]);
      cfg.delay_max = static_cast<Micros>(d[1]);
    } else if (a == "--profile") {
      std::string p = v;
      cfg.profiles.clear();
      if (p == "default" || p == "both") cfg.profiles.push_back({"default", kMembershipDefault});
      if (p == "fast" || p == "both") cfg.profiles.push_back({"fast", kMembershipFast});
      if (cfg.profiles.empty()) return false;
    } else if (a == "--check") {
      cfg.check = true;
    } else {
      std::fprintf(stderr, "membership_sim: unknown option %s\n", a.c_str());
      return false;
    }
  }
  const bool ok = !cfg.nodes.empty() && !cfg.loss_pct.empty() && cfg.minutes > 0 && cfg.trials > 0 &&
                  cfg.max_seconds > 0 &&
                  std::all_of(cfg.nodes.begin(), cfg.nodes.end(), [](size_t n) { return n >= 3 && n <= 1024; }) &&
                  std::all_of(cfg.loss_pct.begin(), cfg.loss_pct.end(), [](int l) { return l >= 0 && l < 100; });
  if (!ok) std::fprintf(stderr, "membership_sim: bad arguments (nodes 3..1024, loss 0..99, positive times)\n");
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  Config cfg;
  if (!parseArgs(argc, argv, cfg)) return 2;
  g_deadline = Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(cfg.max_seconds * 1000));
  std::printf("| rule | N | loss | sim min | false evictions (starved) | detect median / p99 ms | all-detect median ms | msgs/node/s |\n");
  std::printf("|---|---|---|---|---|---|---|---|\n");
  bool pass = true;
  for (size_t n : cfg.nodes) {
    for (int l : cfg.loss_pct) {
      const double p = l / 100.0;
      const uint64_t seed = cfg.seed * 1'000'003 + n * 101 + static_cast<uint64_t>(l);
      for (const auto& [name, profile] : cfg.profiles) {
        Row r = runMembership(n, p, profile, cfg, seed);
        const double bound = profile.probe_interval == kMembershipFast.probe_interval ? 1000 : 3000;
        const double med = percentile(r.detect_ms, 0.5);
        const bool ok = r.false_evictions == 0 && med >= 0 && med <= bound;
        pass = pass && ok && !r.cut;
        std::printf("| swim %s | %zu | %d%% | %.1f%s | %zu (%zu) | %.0f / %.0f | %.0f | %.1f |\n", name, n, l,
                    r.minutes, r.cut ? " (cut)" : "", r.false_evictions, r.false_evictions_starved, med,
                    percentile(r.detect_ms, 0.99), percentile(r.detect_all_ms, 0.5),
                    static_cast<double>(r.messages) / (static_cast<double>(n) * r.minutes * 60));
        std::fflush(stdout);
      }
      LinkOnlyResult lo = runLinkOnly(n, p, cfg, static_cast<Micros>(cfg.minutes * 60 * kSeconds), seed);
      std::printf("| link-only | %zu | %d%% | %.1f | %zu (%zu) | %.0f / %.0f | - | %.1f |\n", n, l, cfg.minutes,
                  lo.false_evictions, lo.false_evictions_starved, percentile(lo.detect_ms, 0.5),
                  percentile(lo.detect_ms, 0.99), static_cast<double>(n - 1));
      std::fflush(stdout);
      if (outOfTime()) {
        std::printf("(wall-time bound of %.0f s reached; remaining rows skipped)\n", cfg.max_seconds);
        return cfg.check ? 1 : 0;
      }
    }
  }
  return cfg.check && !pass ? 1 : 0;
}
