#include "mesh/mdns_record_set.h"

#include <algorithm>

namespace meshslice {
namespace {

bool isAddress(uint16_t type) { return type == dns::kTypeA || type == dns::kTypeAaaa; }

void addUnique(std::vector<DnsRecord>& out, const std::vector<DnsRecord>& skip, DnsRecord r) {
  auto same = [&](const DnsRecord& x) { return sameRecordData(x, r); };
  if (std::none_of(skip.begin(), skip.end(), same) && std::none_of(out.begin(), out.end(), same))
    out.push_back(std::move(r));
}

}  // namespace

MdnsRecordSet::MdnsRecordSet(const MdnsServiceConfig& config, std::string instance, std::string host)
    : instance_(std::move(instance)), host_(std::move(host)) {
  auto add = [&](std::string name, uint16_t type, uint32_t ttl) -> DnsRecord& {
    DnsRecord& r = records_.emplace_back();
    r.name = std::move(name);
    r.type = type;
    r.ttl = ttl;
    r.cache_flush = type != dns::kTypePtr;
    return r;
  };
  add(mdns::kServiceType, dns::kTypePtr, mdns::kOtherRecordTtl).ptr = instance_;
  add(mdns::kServiceEnumeration, dns::kTypePtr, mdns::kOtherRecordTtl).ptr = mdns::kServiceType;
  add(instance_, dns::kTypeSrv, mdns::kHostRecordTtl).srv = {0, 0, config.service_port, host_};
  add(instance_, dns::kTypeTxt, mdns::kOtherRecordTtl).txt = {
      makeTxtString("v", std::to_string(config.protocol_version)), makeTxtString("id", config.device_id),
      makeTxtString("mesh", config.mesh_tag), makeTxtString("port", std::to_string(config.service_port))};
  for (const auto& a : config.ipv4) add(host_, dns::kTypeA, mdns::kHostRecordTtl).a = a;
  for (const auto& a : config.ipv6) add(host_, dns::kTypeAaaa, mdns::kHostRecordTtl).aaaa = a;
}

std::vector<DnsRecord> MdnsRecordSet::uniqueFor(const std::string& name) const {
  std::vector<DnsRecord> out;
  for (const auto& r : records_)
    if (r.type != dns::kTypePtr && dnsNameEquals(r.name, name)) out.push_back(r);
  return out;
}

bool MdnsRecordSet::owns(const std::string& name) const {
  return dnsNameEquals(name, instance_) || dnsNameEquals(name, host_);
}

std::optional<DnsRecord> MdnsRecordSet::nsecFor(const std::string& name) const {
  if (!owns(name)) return std::nullopt;
  DnsRecord n;
  n.name = dnsNameEquals(name, host_) ? host_ : instance_;
  n.type = dns::kTypeNsec;
  n.cache_flush = true;
  n.ttl = mdns::kHostRecordTtl;
  n.nsec.next_name = n.name;
  for (const auto& r : uniqueFor(n.name)) n.nsec.types.push_back(r.type);
  std::sort(n.nsec.types.begin(), n.nsec.types.end());
  n.nsec.types.erase(std::unique(n.nsec.types.begin(), n.nsec.types.end()), n.nsec.types.end());
  return n;
}

std::vector<DnsRecord> MdnsRecordSet::answersFor(const std::string& name, uint16_t type) const {
  std::vector<DnsRecord> out;
  for (const auto& r : records_) {
    if (dnsNameEquals(r.name, name) && (type == r.type || type == dns::kTypeAny)) out.push_back(r);
  }
  // §6.1: a unique name of ours that lacks the type asked for says so.
  if (out.empty() && type != dns::kTypeAny && owns(name)) out.push_back(*nsecFor(name));
  return out;
}

std::vector<DnsRecord> MdnsRecordSet::additionalsFor(const std::vector<DnsRecord>& answers) const {
  std::vector<DnsRecord> extra;
  auto addAll = [&](const std::vector<DnsRecord>& recs, bool addresses_only) {
    for (const auto& r : recs)
      if (!addresses_only || isAddress(r.type)) addUnique(extra, answers, r);
  };
  for (const auto& a : answers) {
    if (a.type == dns::kTypePtr && dnsNameEquals(a.name, mdns::kServiceType)) {
      addAll(uniqueFor(instance_), false);
      addAll(uniqueFor(host_), true);
    } else if (a.type == dns::kTypeSrv) {
      addAll(uniqueFor(host_), true);
    } else if (dnsNameEquals(a.name, host_)) {
      addAll(uniqueFor(host_), true);  // §6.2: the other family; with an NSEC: what does exist
    }
  }
  // §6.1: an NSEC for each unique name the response speaks of.
  for (const std::string* name : {&instance_, &host_}) {
    auto mentions = [&](const DnsRecord& r) { return r.type != dns::kTypePtr && dnsNameEquals(r.name, *name); };
    if (std::any_of(answers.begin(), answers.end(), mentions) || std::any_of(extra.begin(), extra.end(), mentions))
      addUnique(extra, answers, *nsecFor(*name));
  }
  return extra;
}

}  // namespace meshslice
