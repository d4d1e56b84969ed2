// meshslice_bench's baselines, run inside the same benchmark run as the mesh figures:
//   - tools/tcp_baseline: raw libuv TCP ping-pong and stream of the same sizes (the limit),
//     libsodium ChaCha20-Poly1305 on one core, and the bare cross-thread wake-up
//     (uv_async_send -> loop thread);
//   - bench/libp2p/gossip_bench.mjs: js-libp2p gossipsub doing the same job.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdio>
#include <sstream>
#include <string>

#include "tools/bench_mesh.h"

namespace meshslice::bench {

inline std::string runCommand(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

inline void tcpLine(const std::string& l) {
  const std::string size = sizeName(static_cast<size_t>(field(l, "size")));
  if (l.rfind("RTT", 0) == 0) {
    std::string k = "raw TCP " + size + (field(l, "rate") > 0 ? " paced" : " back-to-back") + " RTT ";
    figure(k + "p50", field(l, "p50_us"), "us");
    figure(k + "p99", field(l, "p99_us"), "us");
    if (field(l, "rate") > 0) figure("raw TCP " + size + " paced one-way p50", field(l, "oneway_p50_us"), "us");
  } else if (l.rfind("TPUT", 0) == 0) {
    figure("raw TCP " + size + " msgs/s", field(l, "msgs_per_s"), "/s");
    figure("raw TCP " + size + " MB/s", field(l, "mb_per_s"), "MB/s");
  } else if (l.rfind("AEAD", 0) == 0) {
    figure("AEAD ChaCha20-Poly1305 " + size + " encrypt MB/s (one core)", field(l, "mb_per_s"), "MB/s");
  } else if (l.rfind("WAKE", 0) == 0) {
    const std::string placement = l.substr(l.find("placement=") + 10, l.find(' ', l.find("placement=")) - l.find("placement=") - 10);
    const std::string k = "wake: uv_async_send -> loop thread (" + placement + ") ";
    figure(k + "p50", field(l, "p50_us"), "us");
    figure(k + "p99", field(l, "p99_us"), "us");
  }
}

// Raw TCP, AEAD and wake-up figures from tools/tcp_baseline (built beside this tool).
inline void runTcpBaseline(const std::string& exe, const Config& cfg) {
  std::printf("\n== baselines: raw TCP, AEAD, cross-thread wake (same run) ==\n");
  const std::string dir = exe.substr(0, exe.rfind('/'));
  std::string sizes;
  for (size_t s : cfg.sizes) sizes += (sizes.empty() ? "" : ",") + std::to_string(s);
  const std::string out = runCommand(dir + "/tcp_baseline --sizes " + sizes + " --count " + std::to_string(cfg.lat_count) +
                                     " --rate " + std::to_string(cfg.lat_rate) + " --seconds " + std::to_string(cfg.burst_seconds));
  std::istringstream in(out);
  for (std::string l; std::getline(in, l);) tcpLine(l);
  if (out.find("RTT") == std::string::npos) note("tcp_baseline printed nothing (is it built beside meshslice_bench?)");
}

// js-libp2p gossipsub with `n` node processes (one publisher), 1 KiB, paced at 100/s and at
// the rate meshslice's latency runs at, then as fast as it goes.
inline void runLibp2p(size_t n, const Config& cfg) {
  if (cfg.libp2p_dir.empty()) return;
  std::printf("\n== baseline: js-libp2p gossipsub, N=%zu (same run) ==\n", n);
  const size_t slow = 100, fast = cfg.lat_rate;
  const std::string counts = cfg.quick ? "300,1000" : "1000,2000";
  const std::string out = runCommand("cd '" + cfg.libp2p_dir + "' && timeout 300 node gossip_bench.mjs --nodes " + std::to_string(n) +
                                     " --size 1024 --rates " + std::to_string(slow) + "," + std::to_string(fast) + " --counts " +
                                     counts + " --seconds " + std::to_string(cfg.burst_seconds) + " 2>&1");
  // The result is the one line that is a JSON object; anything else is the script's complaint.
  nlohmann::json j;
  std::string last;
  std::istringstream lines(out);
  for (std::string l; std::getline(lines, l);) {
    if (!l.empty()) last = l;
    if (l.rfind("{", 0) == 0) j = nlohmann::json::parse(l, nullptr, false);
  }
  if (j.is_discarded() || !j.is_object() || !j.contains("latency")) {
    note("js-libp2p gossipsub: no result (" + (last.empty() ? "no output; run npm ci in " + cfg.libp2p_dir : last) + ")");
    return;
  }
  const std::string k = "js-libp2p " + nName(n) + "gossipsub 1KiB ";
  for (const auto& r : j["latency"]) {
    const std::string at = " (" + std::to_string(r.value("rate", 0)) + "/s)";
    figure(k + "latency p50" + at, r.value("p50_us", 0.0), "us");
    figure(k + "latency p99" + at, r.value("p99_us", 0.0), "us");
    figure(k + "publish rate achieved" + at, r.value("offered_per_s", 0.0), "/s");
    figure(k + "delivery rate (median subscriber)" + at, r.value("delivered_per_s", 0.0), "/s");
    figure(k + "delivered (fewest subscriber, %)" + at,
           100.0 * r.value("fewest_samples", 0.0) / std::max(1.0, r.value("sent", 1.0)), "%");
  }
  figure(k + "msgs/s (sum of subscribers)", j.value("msgs_per_s", 0.0), "/s");
}

}  // namespace meshslice::bench
