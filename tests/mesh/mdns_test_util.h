// Helpers for the MdnsResponder tests: a service config, a responder run through probing and
// announcing on explicit time (the responder takes `now` from its caller: these tests are its
// fake clock), and queries.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "mesh/mdns_responder.h"

namespace meshslice::mdns_test {

constexpr Micros kT0 = 1000 * kSeconds;
inline const MdnsEndpoint kPeer{"10.0.0.9", mdns::kPort};

inline MdnsServiceConfig config(std::string instance = "Alice (AB12CD34)", std::string host = "alice") {
  MdnsServiceConfig c;
  c.instance_name = std::move(instance);
  c.host_name = std::move(host);
  c.device_id = "AB12CD34EF";
  c.mesh_tag = "m1";
  c.service_port = 7400;
  c.protocol_version = 2;
  c.ipv4 = {{10, 0, 0, 1}};
  c.ipv6 = {{0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}};
  return c;
}

inline DnsMessage decode(const MdnsOutgoing& out) {
  auto m = parseDnsMessage(out.data);
  EXPECT_TRUE(m.isOk()) << m.status().toString();
  return m.isOk() ? m.value() : DnsMessage{};
}

// Runs the responder until `until`, collecting (time, packet) in order.
inline std::vector<std::pair<Micros, MdnsOutgoing>> runUntil(MdnsResponder& r, Micros until) {
  std::vector<std::pair<Micros, MdnsOutgoing>> sent;
  for (int guard = 0; guard < 1000; ++guard) {
    auto next = r.nextDeadline();
    if (!next || *next > until) break;
    for (auto& p : r.poll(*next)) sent.emplace_back(*next, std::move(p));
  }
  return sent;
}

// A responder that has finished probing and announcing.
inline MdnsResponder announced(MdnsServiceConfig c = config()) {
  MdnsResponder r(std::move(c), 7);
  r.start(kT0);
  runUntil(r, kT0 + 20 * kSeconds);
  EXPECT_EQ(r.state(), MdnsResponder::State::kAnnounced);
  return r;
}

inline DnsMessage query(std::string name, uint16_t type, bool qu = false) {
  DnsMessage q;
  q.questions.push_back({std::move(name), type, dns::kClassIn, qu});
  return q;
}

}  // namespace meshslice::mdns_test
