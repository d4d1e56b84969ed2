#include "mesh/dns_message.h"

#include <algorithm>
#include <cassert>
#include <map>

namespace meshslice {
namespace {

constexpr uint8_t kPointerTag = 0xC0;
constexpr size_t kMaxCompressionOffset = 0x3FFF;

char lowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Bounds-checked cursor over one packet. Every read checks the remaining length first.
class Reader {
 public:
  Reader(ByteView packet, DnsParseTrace* trace) : p_(packet), trace_(trace) {}

  size_t pos() const { return pos_; }
  size_t size() const { return p_.size(); }
  bool has(size_t n) const { return n <= p_.size() - pos_; }

  Status u16(uint16_t& out) {
    if (!has(2)) return malformed("truncated field");
    out = getU16(p_.data() + pos_);
    pos_ += 2;
    return Status::ok();
  }
  Status u32(uint32_t& out) {
    if (!has(4)) return malformed("truncated field");
    out = getU32(p_.data() + pos_);
    pos_ += 4;
    return Status::ok();
  }
  Status bytes(size_t n, const uint8_t*& out) {
    if (!has(n)) return malformed("truncated data");
    out = p_.data() + pos_;
    pos_ += n;
    return Status::ok();
  }
  // Reads a possibly compressed name whose inline part must end by `limit`.
  Status name(std::string& out, size_t limit);

 private:
  ByteView p_;
  size_t pos_ = 0;
  DnsParseTrace* trace_;
};

Status Reader::name(std::string& out, size_t limit) {
  out.clear();
  size_t cur = pos_;
  size_t end = limit;           // inline bytes may not pass this
  size_t wire_len = 1;          // the root label
  int hops = 0;
  bool jumped = false;
  while (true) {
    if (cur >= end) return malformed("name runs past its bounds");
    uint8_t len = p_[cur];
    if (trace_) trace_->label_offsets.push_back(cur);
    if ((len & kPointerTag) == kPointerTag) {
      if (cur + 1 >= end) return malformed("truncated compression pointer");
      size_t target = static_cast<size_t>(((len & 0x3F) << 8) | p_[cur + 1]);
      if (target < dns::kHeaderSize) return malformed("compression pointer into the header");
      if (target >= cur) return malformed("forward or self compression pointer");
      if (++hops > kDnsMaxPointerHops) return malformed("too many compression pointers");
      if (!jumped) pos_ = cur + 2;
      jumped = true;
      end = cur;  // strictly backwards from here on: no loops possible
      cur = target;
      continue;
    }
    if ((len & kPointerTag) != 0) return malformed("reserved label type");
    if (len == 0) {
      if (!jumped) pos_ = cur + 1;
      return Status::ok();
    }
    if (len > dns::kMaxLabelLength) return malformed("label longer than 63 bytes");
    wire_len += 1 + len;
    if (wire_len > dns::kMaxNameWireLength) return malformed("name longer than 255 bytes");
    if (cur + 1 + len > end) return malformed("label runs past its bounds");
    if (!out.empty()) out += '.';
    out += escapeDnsLabel(std::string_view(reinterpret_cast<const char*>(&p_[cur + 1]), len));
    cur += 1 + len;
  }
}

Status parseQuestion(Reader& r, DnsQuestion& q) {
  MS_RETURN_IF_ERROR(r.name(q.name, r.size()));
  uint16_t qclass = 0;
  MS_RETURN_IF_ERROR(r.u16(q.type));
  MS_RETURN_IF_ERROR(r.u16(qclass));
  q.unicast_response = (qclass & dns::kClassTopBit) != 0;
  q.qclass = qclass & ~dns::kClassTopBit;
  return Status::ok();
}

Status parseTxt(const uint8_t* d, size_t n, std::vector<std::string>& out) {
  size_t i = 0;
  while (i < n) {
    size_t len = d[i];
    if (len > n - i - 1) return malformed("TXT string runs past rdata");
    if (out.size() >= kDnsMaxTxtStrings) return malformed("too many TXT strings");
    out.emplace_back(reinterpret_cast<const char*>(d + i + 1), len);
    i += 1 + len;
  }
  return Status::ok();
}

Status parseNsecBitmap(const uint8_t* d, size_t n, std::vector<uint16_t>& types) {
  size_t i = 0;
  int last_window = -1;
  while (i < n) {
    if (n - i < 2) return malformed("truncated NSEC window");
    int window = d[i];
    size_t len = d[i + 1];
    if (window <= last_window) return malformed("NSEC windows out of order");
    if (len < 1 || len > 32 || len > n - i - 2) return malformed("bad NSEC bitmap length");
    for (size_t b = 0; b < len; ++b) {
      for (int bit = 0; bit < 8; ++bit) {
        if (d[i + 2 + b] & (0x80 >> bit)) {
          types.push_back(static_cast<uint16_t>(window * 256 + b * 8 + bit));
        }
      }
    }
    last_window = window;
    i += 2 + len;
  }
  return Status::ok();
}

Status parseRdata(Reader& r, DnsRecord& rec, size_t rdlen) {
  size_t start = r.pos();
  size_t end = start + rdlen;
  const uint8_t* d = nullptr;
  switch (rec.type) {
    case dns::kTypePtr:
      MS_RETURN_IF_ERROR(r.name(rec.ptr, end));
      break;
    case dns::kTypeSrv:
      if (rdlen < 7) return malformed("SRV rdata too short");
      MS_RETURN_IF_ERROR(r.u16(rec.srv.priority));
      MS_RETURN_IF_ERROR(r.u16(rec.srv.weight));
      MS_RETURN_IF_ERROR(r.u16(rec.srv.port));
      MS_RETURN_IF_ERROR(r.name(rec.srv.target, end));
      break;
    case dns::kTypeTxt:
      MS_RETURN_IF_ERROR(r.bytes(rdlen, d));
      MS_RETURN_IF_ERROR(parseTxt(d, rdlen, rec.txt));
      break;
    case dns::kTypeA:
      if (rdlen != 4) return malformed("A rdata is not 4 bytes");
      MS_RETURN_IF_ERROR(r.bytes(4, d));
      std::copy(d, d + 4, rec.a.begin());
      break;
    case dns::kTypeAaaa:
      if (rdlen != 16) return malformed("AAAA rdata is not 16 bytes");
      MS_RETURN_IF_ERROR(r.bytes(16, d));
      std::copy(d, d + 16, rec.aaaa.begin());
      break;
    case dns::kTypeNsec:
      MS_RETURN_IF_ERROR(r.name(rec.nsec.next_name, end));
      if (r.pos() > end) return malformed("NSEC name runs past rdata");
      {
        size_t rest = end - r.pos();
        MS_RETURN_IF_ERROR(r.bytes(rest, d));
        MS_RETURN_IF_ERROR(parseNsecBitmap(d, rest, rec.nsec.types));
      }
      break;
    default:
      MS_RETURN_IF_ERROR(r.bytes(rdlen, d));
      rec.raw.assign(d, d + rdlen);
      break;
  }
  if (r.pos() != end) return malformed("rdata length does not match its content");
  return Status::ok();
}

Status parseRecord(Reader& r, DnsRecord& rec) {
  MS_RETURN_IF_ERROR(r.name(rec.name, r.size()));
  uint16_t rrclass = 0;
  uint16_t rdlen = 0;
  MS_RETURN_IF_ERROR(r.u16(rec.type));
  MS_RETURN_IF_ERROR(r.u16(rrclass));
  MS_RETURN_IF_ERROR(r.u32(rec.ttl));
  MS_RETURN_IF_ERROR(r.u16(rdlen));
  if (!r.has(rdlen)) return malformed("rdata runs past the packet");
  rec.cache_flush = (rrclass & dns::kClassTopBit) != 0;
  rec.rrclass = rrclass & ~dns::kClassTopBit;
  return parseRdata(r, rec, rdlen);
}

// Encoder with a dictionary of name suffixes already written (lower-cased presentation form).
class Writer {
 public:
  Bytes& out() { return out_; }
  void u8(uint8_t v) { out_.push_back(v); }
  void u16(uint16_t v) {
    out_.push_back(static_cast<uint8_t>(v >> 8));
    out_.push_back(static_cast<uint8_t>(v));
  }
  void u32(uint32_t v) {
    u16(static_cast<uint16_t>(v >> 16));
    u16(static_cast<uint16_t>(v));
  }
  void raw(const void* p, size_t n) {
    auto* b = static_cast<const uint8_t*>(p);
    out_.insert(out_.end(), b, b + n);
  }
  Status name(std::string_view name, bool compress);

 private:
  Bytes out_;
  std::map<std::string, uint16_t> suffixes_;
};

Status Writer::name(std::string_view text, bool compress) {
  auto labels = splitDnsName(text);
  if (!labels) return invalidArgument("bad name '" + std::string(text) + "': " + labels.status().message());
  const auto& ls = labels.value();
  // keys[i] = lower-cased presentation form of labels[i..].
  std::vector<std::string> keys(ls.size());
  for (size_t i = ls.size(); i-- > 0;) {
    keys[i] = dnsNameKey(escapeDnsLabel(ls[i]));
    if (i + 1 < ls.size()) keys[i] += "." + keys[i + 1];
  }
  for (size_t i = 0; i < ls.size(); ++i) {
    if (compress) {
      auto it = suffixes_.find(keys[i]);
      if (it != suffixes_.end()) {
        u16(static_cast<uint16_t>(0xC000 | it->second));
        return Status::ok();
      }
      if (out_.size() <= kMaxCompressionOffset) {
        suffixes_.emplace(keys[i], static_cast<uint16_t>(out_.size()));
      }
    }
    u8(static_cast<uint8_t>(ls[i].size()));
    raw(ls[i].data(), ls[i].size());
  }
  u8(0);
  return Status::ok();
}

void writeNsecBitmap(Writer& w, std::vector<uint16_t> types) {
  std::sort(types.begin(), types.end());
  types.erase(std::unique(types.begin(), types.end()), types.end());
  size_t i = 0;
  while (i < types.size()) {
    uint8_t window = static_cast<uint8_t>(types[i] >> 8);
    uint8_t bitmap[32] = {};
    size_t len = 0;
    for (; i < types.size() && (types[i] >> 8) == window; ++i) {
      uint8_t low = static_cast<uint8_t>(types[i]);
      bitmap[low / 8] |= static_cast<uint8_t>(0x80 >> (low % 8));
      len = low / 8 + 1;
    }
    w.u8(window);
    w.u8(static_cast<uint8_t>(len));
    w.raw(bitmap, len);
  }
}

Status writeRdata(Writer& w, const DnsRecord& rec, bool compress) {
  switch (rec.type) {
    case dns::kTypePtr:
      return w.name(rec.ptr, compress);
    case dns::kTypeSrv:
      w.u16(rec.srv.priority);
      w.u16(rec.srv.weight);
      w.u16(rec.srv.port);
      return w.name(rec.srv.target, compress);
    case dns::kTypeTxt:
      if (rec.txt.size() > kDnsMaxTxtStrings) return invalidArgument("too many TXT strings");
      if (rec.txt.empty()) w.u8(0);  // RFC 6763 §6.1: never an empty rdata
      for (const auto& s : rec.txt) {
        if (s.size() > 255) return invalidArgument("TXT string longer than 255 bytes");
        w.u8(static_cast<uint8_t>(s.size()));
        w.raw(s.data(), s.size());
      }
      return Status::ok();
    case dns::kTypeA:
      w.raw(rec.a.data(), rec.a.size());
      return Status::ok();
    case dns::kTypeAaaa:
      w.raw(rec.aaaa.data(), rec.aaaa.size());
      return Status::ok();
    case dns::kTypeNsec:
      // The next name is written uncompressed (RFC 4034 §4.1.1), which every reader accepts.
      MS_RETURN_IF_ERROR(w.name(rec.nsec.next_name, false));
      writeNsecBitmap(w, rec.nsec.types);
      return Status::ok();
    default:
      w.raw(rec.raw.data(), rec.raw.size());
      return Status::ok();
  }
}

Status writeRecord(Writer& w, const DnsRecord& rec) {
  MS_RETURN_IF_ERROR(w.name(rec.name, true));
  w.u16(rec.type);
  w.u16(static_cast<uint16_t>(rec.rrclass | (rec.cache_flush ? dns::kClassTopBit : 0)));
  w.u32(rec.ttl);
  size_t len_at = w.out().size();
  w.u16(0);
  MS_RETURN_IF_ERROR(writeRdata(w, rec, true));
  size_t rdlen = w.out().size() - len_at - 2;
  if (rdlen > 0xFFFF) return invalidArgument("rdata longer than 65535 bytes");
  putU16(w.out().data() + len_at, static_cast<uint16_t>(rdlen));
  return Status::ok();
}

}  // namespace

Result<DnsMessage> parseDnsMessage(ByteView packet, DnsParseTrace* trace) {
  if (packet.size() < dns::kHeaderSize) return malformed("packet shorter than a DNS header");
  if (packet.size() > kDnsMaxPacketSize) return malformed("packet larger than 9000 bytes");
  Reader r(packet, trace);
  DnsMessage m;
  uint16_t counts[4] = {};
  MS_RETURN_IF_ERROR(r.u16(m.id));
  MS_RETURN_IF_ERROR(r.u16(m.flags));
  size_t total = 0;
  for (auto& c : counts) {
    MS_RETURN_IF_ERROR(r.u16(c));
    total += c;
  }
  if (total > kDnsMaxRecords) return malformed("more than 256 questions and records");
  // Each entry takes at least 5 (question) or 11 (record) bytes: reject impossible counts
  // before reserving anything.
  if (counts[0] * 5u + (total - counts[0]) * 11u > packet.size() - dns::kHeaderSize) {
    return malformed("section counts exceed the packet");
  }
  m.questions.resize(counts[0]);
  for (auto& q : m.questions) MS_RETURN_IF_ERROR(parseQuestion(r, q));
  std::vector<DnsRecord>* sections[3] = {&m.answers, &m.authorities, &m.additionals};
  for (int s = 0; s < 3; ++s) {
    sections[s]->resize(counts[s + 1]);
    for (auto& rec : *sections[s]) MS_RETURN_IF_ERROR(parseRecord(r, rec));
  }
  if (r.pos() != r.size()) return malformed("trailing bytes after the last record");
  return m;
}

Result<Bytes> writeDnsMessage(const DnsMessage& m) {
  size_t total = m.questions.size() + m.answers.size() + m.authorities.size() +
                 m.additionals.size();
  if (total > kDnsMaxRecords) return tooLarge("more than 256 questions and records");
  Writer w;
  w.u16(m.id);
  w.u16(m.flags);
  w.u16(static_cast<uint16_t>(m.questions.size()));
  w.u16(static_cast<uint16_t>(m.answers.size()));
  w.u16(static_cast<uint16_t>(m.authorities.size()));
  w.u16(static_cast<uint16_t>(m.additionals.size()));
  for (const auto& q : m.questions) {
    MS_RETURN_IF_ERROR(w.name(q.name, true));
    w.u16(q.type);
    w.u16(static_cast<uint16_t>(q.qclass | (q.unicast_response ? dns::kClassTopBit : 0)));
  }
  for (const auto* section : {&m.answers, &m.authorities, &m.additionals}) {
    for (const auto& rec : *section) MS_RETURN_IF_ERROR(writeRecord(w, rec));
  }
  if (w.out().size() > kDnsMaxPacketSize) return tooLarge("DNS message larger than 9000 bytes");
  return std::move(w.out());
}

bool dnsNameEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (lowerAscii(a[i]) != lowerAscii(b[i])) return false;
  }
  return true;
}

std::string dnsNameKey(std::string_view name) {
  std::string out(name);
  for (auto& c : out) c = lowerAscii(c);
  return out;
}

std::string escapeDnsLabel(std::string_view raw_label) {
  std::string out;
  out.reserve(raw_label.size());
  for (char c : raw_label) {
    if (c == '.' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

Result<std::vector<std::string>> splitDnsName(std::string_view name) {
  std::vector<std::string> labels;
  if (name.empty()) return labels;
  std::string cur;
  size_t wire = 1;
  auto finish = [&]() -> Status {
    if (cur.empty()) return invalidArgument("empty label");
    if (cur.size() > dns::kMaxLabelLength) return invalidArgument("label longer than 63 bytes");
    wire += 1 + cur.size();
    if (wire > dns::kMaxNameWireLength) return invalidArgument("name longer than 255 bytes");
    labels.push_back(std::move(cur));
    cur.clear();
    return Status::ok();
  };
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (c == '\\') {
      if (++i == name.size()) return invalidArgument("dangling escape");
      cur += name[i];
    } else if (c == '.') {
      MS_RETURN_IF_ERROR(finish());
    } else {
      cur += c;
    }
  }
  MS_RETURN_IF_ERROR(finish());
  return labels;
}

Result<std::string> firstDnsLabel(std::string_view name) {
  auto labels = splitDnsName(name);
  if (!labels) return labels.status();
  if (labels->empty()) return invalidArgument("root name has no label");
  return labels.value()[0];
}

Bytes canonicalRdata(const DnsRecord& record) {
  Writer w;
  if (!writeRdata(w, record, false).isOk()) return {};
  return std::move(w.out());
}

bool sameRecordData(const DnsRecord& a, const DnsRecord& b) {
  if (a.type != b.type || a.rrclass != b.rrclass || !dnsNameEquals(a.name, b.name)) return false;
  switch (a.type) {
    case dns::kTypePtr:
      return dnsNameEquals(a.ptr, b.ptr);
    case dns::kTypeSrv:
      return a.srv.priority == b.srv.priority && a.srv.weight == b.srv.weight &&
             a.srv.port == b.srv.port && dnsNameEquals(a.srv.target, b.srv.target);
    default:
      return canonicalRdata(a) == canonicalRdata(b);
  }
}

TxtAttributes parseTxtAttributes(const std::vector<std::string>& strings) {
  TxtAttributes out;
  for (const auto& s : strings) {
    size_t eq = s.find('=');
    std::string_view key = std::string_view(s).substr(0, eq);
    if (key.empty()) continue;  // "" or "=value": RFC 6763 §6.4 says ignore
    bool printable = std::all_of(key.begin(), key.end(), [](char c) {
      return static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) <= 0x7E;
    });
    if (!printable) continue;
    std::optional<std::string> value;
    if (eq != std::string::npos) value = s.substr(eq + 1);
    out.emplace(dnsNameKey(key), std::move(value));  // emplace keeps the first occurrence
  }
  return out;
}

std::string makeTxtString(std::string_view key, std::optional<std::string_view> value) {
  assert(!key.empty() && key.find('=') == std::string_view::npos);
  std::string out(key);
  if (value) {
    out += '=';
    out += *value;
  }
  return out;
}

}  // namespace meshslice
