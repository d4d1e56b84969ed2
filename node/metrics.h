// The daemon's /metrics page (docs/HTTP.md, "Metrics"): counters and gauges of the node in
// the Prometheus text exposition format 0.0.4.
//
// PrometheusText is the pure writer (families, samples, label escaping); renderDaemonMetrics
// reads the node's parts on the loop thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace meshslice {

class MeshCore;
class StoreHub;
class ControlServer;
class HttpServer;

using MetricLabels = std::vector<std::pair<std::string_view, std::string>>;

class PrometheusText {
 public:
  // Starts a family: its # HELP and # TYPE lines ("counter" or "gauge").
  void family(std::string_view name, std::string_view type, std::string_view help);
  void sample(std::string_view name, const MetricLabels& labels, uint64_t value);
  void sample(std::string_view name, const MetricLabels& labels, double value);
  void sample(std::string_view name, uint64_t value) { sample(name, {}, value); }
  const std::string& text() const { return out_; }

 private:
  void begin(std::string_view name, const MetricLabels& labels);
  std::string out_;
};

// Backslash, double quote and newline escaped as the format requires.
std::string escapeLabelValue(std::string_view value);

// Everything the page shows. Loop thread; each part must be alive (http may be null).
struct MetricsSources {
  MeshCore& core;
  const StoreHub& stores;
  const ControlServer& control;
  const HttpServer* http = nullptr;
  int64_t uptime_ms = 0;
};
std::string renderDaemonMetrics(const MetricsSources& sources);

}  // namespace meshslice
