// libFuzzer target for the mDNS packet path: the codec on untrusted bytes, then (for what
// parses) re-encoding and the pure responder and querier, which must never crash on any
// message. Seeds: fuzz/corpus/dns_message/ (captured avahi packets and our own).
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
  static MdnsResponder* responder = [] {
    MdnsServiceConfig c;
    c.instance_name = "fuzz (FUZZ0001)";
    c.host_name = "fuzz";
    c.device_id = "FUZZ0001";
    c.mesh_tag = "interop";
    c.service_port = 7400;
    c.ipv4 = {{10, 0, 0, 1}};
    auto* r = new MdnsResponder(c, 1);
    r->start(0);
    for (Micros t = 0; t < 10 * kSeconds; t += 100 * kMillis) r->poll(t);
    return r;
  }();
  static Micros now = 10 * kSeconds;
  now += 50 * kMillis;
  responder->onMessage(m, MdnsEndpoint{"10.0.0.2", size % 2 ? mdns::kPort : uint16_t{4000}}, now);
  responder->poll(now + kSeconds);
  MdnsQuerier querier(MdnsBrowseConfig{mdns::kServiceType, "FUZZ0001", "interop", "eth0"}, 1);
  querier.start(now);
  querier.onMessage(m, now);
  querier.poll(now + 2 * kSeconds);
  (void)querier.takeEvents();
  return 0;
}
