// A bounded DNS message codec for Multicast DNS (RFC 1035 wire format with the mDNS meanings of
// RFC 6762: the top bit of a question's class asks for a unicast response, the top bit of a
// record's class is the cache-flush bit). Pure code: no I/O, no global state, thread-compatible.
//
// Names are kept as text in presentation form: labels joined by '.', no trailing dot, with '.'
// and '\' inside a label escaped as "\." and "\\" (other bytes are kept as they are, so UTF-8
// instance names read naturally). Compare names with dnsNameEquals (ASCII case-insensitive).
//
// parseDnsMessage accepts untrusted bytes: every violation of a limit or of the wire format is
// a Status with Code::kMalformed; it never crashes and allocates at most O(packet size).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"

namespace meshslice {

// ---- Protocol numbers (RFC 1035, 3596, 2782, 4034, 6762) ----
namespace dns {
constexpr uint16_t kTypeA = 1;
constexpr uint16_t kTypePtr = 12;
constexpr uint16_t kTypeTxt = 16;
constexpr uint16_t kTypeAaaa = 28;
constexpr uint16_t kTypeSrv = 33;
constexpr uint16_t kTypeNsec = 47;
constexpr uint16_t kTypeAny = 255;
constexpr uint16_t kClassIn = 1;
constexpr uint16_t kClassAny = 255;
constexpr uint16_t kClassTopBit = 0x8000;  // QU in questions, cache-flush in records

constexpr uint16_t kFlagResponse = 0x8000;     // QR
constexpr uint16_t kFlagAuthoritative = 0x0400;  // AA
constexpr uint16_t kFlagTruncated = 0x0200;      // TC
constexpr uint16_t kOpcodeMask = 0x7800;
constexpr uint16_t kRcodeMask = 0x000F;

constexpr size_t kHeaderSize = 12;
constexpr size_t kMaxLabelLength = 63;
constexpr size_t kMaxNameWireLength = 255;  // length octets + labels + root, uncompressed
}  // namespace dns

// ---- Limits of this implementation ----
constexpr size_t kDnsMaxPacketSize = 9000;   // RFC 6762 §17: the largest mDNS message
constexpr size_t kDnsMaxRecords = 256;       // questions + all record sections together
constexpr int kDnsMaxPointerHops = 32;       // compression pointers followed per name
constexpr size_t kDnsMaxTxtStrings = 256;

struct DnsQuestion {
  std::string name;
  uint16_t type = dns::kTypeAny;
  uint16_t qclass = dns::kClassIn;  // without the QU bit
  bool unicast_response = false;    // QU bit
};

struct DnsSrv {
  uint16_t priority = 0;
  uint16_t weight = 0;
  uint16_t port = 0;
  std::string target;
};

struct DnsNsec {
  std::string next_name;
  std::vector<uint16_t> types;  // ascending
};

// One resource record. Exactly the member matching `type` carries the data; other types keep
// their rdata opaque in `raw` (never decompressed, so re-encoding them is only safe if they
// contain no names, which is true of every type we forward).
struct DnsRecord {
  std::string name;
  uint16_t type = 0;
  uint16_t rrclass = dns::kClassIn;  // without the cache-flush bit
  bool cache_flush = false;
  uint32_t ttl = 0;

  std::string ptr;                     // kTypePtr: target name
  DnsSrv srv;                          // kTypeSrv
  std::vector<std::string> txt;        // kTypeTxt: the character-strings
  std::array<uint8_t, 4> a{};          // kTypeA
  std::array<uint8_t, 16> aaaa{};      // kTypeAaaa
  DnsNsec nsec;                        // kTypeNsec
  Bytes raw;                           // any other type
};

struct DnsMessage {
  uint16_t id = 0;
  uint16_t flags = 0;
  std::vector<DnsQuestion> questions;
  std::vector<DnsRecord> answers;
  std::vector<DnsRecord> authorities;
  std::vector<DnsRecord> additionals;

  bool isResponse() const { return (flags & dns::kFlagResponse) != 0; }
  bool truncated() const { return (flags & dns::kFlagTruncated) != 0; }
  uint8_t opcode() const { return static_cast<uint8_t>((flags & dns::kOpcodeMask) >> 11); }
  uint8_t rcode() const { return static_cast<uint8_t>(flags & dns::kRcodeMask); }
};

// Where a parse read names, for tests of the codec against hostile rewrites of real packets:
// the offset of every label-length or compression-pointer byte read, in reading order (names
// reached through pointers included, so an offset may appear more than once).
struct DnsParseTrace {
  std::vector<size_t> label_offsets;
};

// Decodes one DNS message. Rejects (kMalformed): packets shorter than a header or longer than
// kDnsMaxPacketSize, more than kDnsMaxRecords entries, truncated sections, trailing garbage,
// bad names (labels > 63, names > 255 bytes, forward/self/out-of-range compression pointers,
// more than kDnsMaxPointerHops hops, the reserved 0x40/0x80 label types), and rdata that does
// not match its type's layout exactly.
// With `trace`, also records where names were read (for codec tests).
Result<DnsMessage> parseDnsMessage(ByteView packet, DnsParseTrace* trace = nullptr);

// Encodes with name compression (owner names, PTR/SRV targets and the NSEC next name). Fails
// with kInvalidArgument on an unencodable name or rdata, and kTooLarge past kDnsMaxPacketSize.
Result<Bytes> writeDnsMessage(const DnsMessage& message);

// ---- Names ----
// ASCII case-insensitive equality of two presentation-form names.
bool dnsNameEquals(std::string_view a, std::string_view b);
// Lower-cased copy for use as a map key.
std::string dnsNameKey(std::string_view name);
// Escapes one label's raw bytes into presentation form, and the inverse for a whole name.
std::string escapeDnsLabel(std::string_view raw_label);
// Splits a presentation-form name into raw labels. Fails on an empty label, a label > 63 bytes,
// a name > 255 bytes on the wire, or a dangling escape.
Result<std::vector<std::string>> splitDnsName(std::string_view name);
// The first label (raw, unescaped) of a name, or an error as for splitDnsName.
Result<std::string> firstDnsLabel(std::string_view name);

// The uncompressed wire form of a record's rdata: the identity of a record for caches,
// known-answer suppression and the lexicographic comparison of RFC 6762 §8.2.
Bytes canonicalRdata(const DnsRecord& record);
// Same name (case-insensitive), type, class and rdata.
bool sameRecordData(const DnsRecord& a, const DnsRecord& b);

// ---- TXT attributes (RFC 6763 §6) ----
// Key (lower-cased) -> value; nullopt marks a boolean attribute given without '='. Strings
// that start with '=' or whose key has a byte outside printable ASCII are ignored; for a key
// given more than once, the first occurrence wins.
using TxtAttributes = std::map<std::string, std::optional<std::string>>;
TxtAttributes parseTxtAttributes(const std::vector<std::string>& strings);
// "key=value" (or just "key" for nullopt). Asserts on a key that RFC 6763 forbids.
std::string makeTxtString(std::string_view key, std::optional<std::string_view> value);

}  // namespace meshslice
