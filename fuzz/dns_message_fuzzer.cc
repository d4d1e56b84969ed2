// libFuzzer target for the mDNS packet path: the codec on untrusted bytes, then (for what
// parses) re-encoding and the pure responder and querier, which must never crash on any
// message. No state survives an input: each starts from a new responder and querier, so a
// crash reproduces from its one input. Seeds: fuzz/corpus/dns_message/ (captured avahi
// packets and our own).
#include <cstddef>
#include <cstdint>

#include "mesh/dns_message.h"
#include "mesh/mdns_querier.h"
#include "mesh/mdns_responder.h"

using namespace meshslice;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto parsed = parseDnsMessage(ByteView(data, size));
  if (!parsed) return 0;
  const DnsMessage& m = parsed.value();
  // Whatever we accept must re-encode into something we accept again.
  auto wire = writeDnsMessage(m);
  if (wire) {
    auto again = parseDnsMessage(wire.value());
    if (!again) __builtin_trap();
  }
  for (const auto* section : {&m.answers, &m.additionals}) {
    for (const auto& r : *section) {
      if (r.type == dns::kTypeTxt) (void)parseTxtAttributes(r.txt);
    }
  }
  // Fresh protocol state for every input, so that any crash reproduces from that one input.
  MdnsServiceConfig c;
  c.instance_name = "fuzz (FUZZ0001)";
  c.host_name = "fuzz";
  c.device_id = "FUZZ0001";
  c.mesh_tag = "interop";
  c.service_port = 7400;
  c.ipv4 = {{10, 0, 0, 1}};
  MdnsResponder responder(c, 1);
  responder.start(0);
  Micros now = 0;
  for (; now < 10 * kSeconds; now += 100 * kMillis) (void)responder.poll(now);
  // The same message as a query from the mDNS port and from a legacy port, and again later
  // (known answers, the QU quarter-TTL rule and held truncated queries see other state then).
  for (uint16_t port : {mdns::kPort, uint16_t{4000}}) {
    (void)responder.onMessage(m, MdnsEndpoint{"10.0.0.2", port}, now);
  }
  (void)responder.poll(now + kSeconds);
  (void)responder.onMessage(m, MdnsEndpoint{"10.0.0.2", mdns::kPort}, now + 40 * kSeconds);
  (void)responder.poll(now + 41 * kSeconds);
  (void)responder.stop();
  MdnsQuerier querier(MdnsBrowseConfig{mdns::kServiceType, "FUZZ0001", "interop", "eth0"}, 1);
  querier.start(now);
  querier.onMessage(m, now);
  (void)querier.poll(now + 2 * kSeconds);
  (void)querier.takeEvents();
  return 0;
}
