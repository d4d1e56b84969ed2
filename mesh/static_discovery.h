// StaticDiscovery: the discovery source for a configured peer list. Each entry is "host:port"
// or "[v6]:port"; the host is a numeric IPv4/IPv6 address or a name. Numeric entries are
// reported as they are; names are resolved through Env::lookupHost (uv_getaddrinfo on the
// loop's thread pool in the real env, an injected table in FakeEnv) and looked up again every
// `reresolve_interval`, so a changed DNS answer is followed (a new `found` with the new
// endpoints). A failed lookup is logged and retried with backoff; it never stops the source,
// and a transient failure keeps the endpoints of the last good answer. A name that stops
// existing (kNotFound after an answer) is reported `lost`.
//
// Bounds: at most kMaxEntries entries, at most one lookup in flight per entry, at most
// kMaxEndpointsPerEntry endpoints per answer (the resolver's best first).
//
// Threading and lifetime: construct, start(), stop() and destroy on the loop thread of `env`,
// which must outlive this object. Events run on the loop thread, on a later turn than the
// call or lookup that caused them. stop() (or the destructor) cancels every lookup and timer.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/env.h"
#include "mesh/discovery.h"
#include "transport/address.h"

namespace meshslice {

struct StaticDiscoveryOptions {
  Micros reresolve_interval = 60 * kSeconds;  // names are looked up again this often
  Micros retry_initial = 1 * kSeconds;        // after a failed lookup; doubles each time
  Micros retry_max = 60 * kSeconds;
};

class StaticDiscovery final : public DiscoverySource {
 public:
  static constexpr size_t kMaxEntries = 256;
  static constexpr size_t kMaxEndpointsPerEntry = 8;

  // Checks one entry: "host:port" with a name or numeric IPv4 host, or "[v6]:port" with a
  // numeric IPv6 address (a zone is allowed: "[fe80::1%eth0]:7000").
  static Result<HostPort> parseEntry(std::string_view entry);
  // The key of an entry's adverts: "static:<entry>".
  static std::string keyOf(const std::string& entry);

  StaticDiscovery(Env& env, std::vector<std::string> entries, StaticDiscoveryOptions options = {});
  ~StaticDiscovery() override;
  StaticDiscovery(const StaticDiscovery&) = delete;
  StaticDiscovery& operator=(const StaticDiscovery&) = delete;

  // Fails with kInvalidArgument, naming the entry, if one is malformed or there are more than
  // kMaxEntries; then no event is ever delivered.
  Status start(Events events) override;
  void stop() override;

  // Lookups in flight now (for tests and diagnostics).
  size_t lookupsInFlight() const;

 private:
  struct Entry;

  void lookup(Entry& e);
  void onLookup(Entry& e, Result<std::vector<std::string>> answer);
  void report(Entry& e, bool found);

  Env& env_;
  std::vector<std::string> texts_;
  StaticDiscoveryOptions options_;
  Events events_;
  bool running_ = false;
  std::vector<std::unique_ptr<Entry>> entries_;
  std::shared_ptr<int> token_;  // posted deliveries hold a weak_ptr: dead after stop()
};

}  // namespace meshslice
