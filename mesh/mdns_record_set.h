// MdnsRecordSet: the records one link publishes for our `_meshslice._tcp.local` instance and
// host name, and the rules for what goes with an answer: additional records (RFC 6763 §12,
// RFC 6762 §6.2) and NSEC records asserting which types our unique names have (RFC 6762
// §6.1), used both as negative answers and in the additional section. A value built from the
// service config and the current (possibly renamed) names. Pure; thread-compatible.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "mesh/dns_message.h"
#include "mesh/mdns_constants.h"

namespace meshslice {

struct MdnsServiceConfig {
  std::string instance_name;  // first label of the instance, raw (unescaped), <= 63 bytes
  std::string host_name;      // host label without ".local", raw, <= 63 bytes
  std::string device_id;      // TXT "id"
  std::string mesh_tag;       // TXT "mesh"
  uint16_t service_port = 0;  // SRV port and TXT "port"
  uint32_t protocol_version = 1;  // TXT "v"
  uint16_t mdns_port = mdns::kPort;  // queries from any other source port are legacy unicast
  std::vector<std::array<uint8_t, 4>> ipv4;
  std::vector<std::array<uint8_t, 16>> ipv6;
};

class MdnsRecordSet {
 public:
  // `instance` and `host` are full presentation-form names ("x._meshslice._tcp.local",
  // "h.local").
  MdnsRecordSet(const MdnsServiceConfig& config, std::string instance, std::string host);

  // Every record we publish, with its normal TTL: 2 PTR, SRV, TXT, then A and AAAA.
  const std::vector<DnsRecord>& all() const { return records_; }
  // Our unique (non-PTR) records named `name`.
  std::vector<DnsRecord> uniqueFor(const std::string& name) const;
  // Whether `name` is one of our unique names (the instance or the host).
  bool owns(const std::string& name) const;
  // The NSEC record for one of our unique names: next name = the name itself, the bitmap lists
  // the types it has (§6.1), TTL that of the records it stands in for; nullopt otherwise.
  std::optional<DnsRecord> nsecFor(const std::string& name) const;
  // What to answer question (`name`, `type`) with: our records of that name and type (all
  // types for ANY), or, for one of our unique names lacking that type, its NSEC (a negative
  // answer). Questions for names we do not own get nothing.
  std::vector<DnsRecord> answersFor(const std::string& name, uint16_t type) const;
  // The additional records for `answers`: the instance's SRV/TXT and the host's addresses with
  // a PTR, the host's addresses with an SRV, the other address family with an address, the
  // addresses with a negative answer for the host, and an NSEC for every unique name that
  // appears in the answers or additionals. Nothing already in `answers`, no duplicates.
  std::vector<DnsRecord> additionalsFor(const std::vector<DnsRecord>& answers) const;

 private:
  std::string instance_;
  std::string host_;
  std::vector<DnsRecord> records_;
};

}  // namespace meshslice
