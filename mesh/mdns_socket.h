// One mDNS UDP socket: one address family on one interface, bound to the mDNS port shared with
// other responders (SO_REUSEADDR + SO_REUSEPORT), joined to the group on that interface only,
// with multicast sends pinned to it (IPv4: IP_MULTICAST_IF with an ip_mreqn naming the
// interface index and, when given, the source address, e.g. 127.0.0.1 on lo; IPv6:
// IPV6_MULTICAST_IF), loopback on and hop limit 255. SO_BINDTODEVICE and
// IP(V6)_MULTICAST_ALL=0 keep packets of other interfaces out, so a packet's socket tells its
// interface; SO_BINDTODEVICE also keeps unicast replies on the interface.
//
// Owns its uv_udp_t (base/uv_handle.h rules). Loop thread only. The packet callback runs on the
// loop thread and never after the socket is destroyed.
#pragma once

#include <uv.h>

#include <array>
#include <functional>
#include <optional>
#include <string>

#include "base/bytes.h"
#include "base/status.h"
#include "base/uv_handle.h"
#include "mesh/dns_message.h"
#include "mesh/mdns_constants.h"

namespace meshslice {

struct MdnsSocketOptions {
  // IPv4 only: the source address of multicast sends (ip_mreqn.imr_address). Unset: the
  // kernel picks one of the interface's addresses.
  std::optional<std::array<uint8_t, 4>> ipv4_source;
  // If SO_BINDTODEVICE fails, open() fails (for interfaces the user named: we must never
  // answer or send elsewhere). Otherwise it only logs a warning (without CAP_NET_RAW on
  // kernels before 5.7), and IP(V6)_MULTICAST_ALL=0 still keeps other links' multicast out.
  bool require_bind_to_device = false;
  // A socket for one-shot queries (MdnsOutgoing::one_shot): bound to an ephemeral port and not
  // joined to the group; it still multicasts to the group on `port`, and receives the unicast
  // replies sent to its own port.
  bool ephemeral = false;
};

class MdnsSocket {
 public:
  // `oversize` is true when the datagram was larger than kDnsMaxPacketSize (data is cut).
  using OnPacket = std::function<void(ByteView data, const MdnsEndpoint& from, bool oversize)>;

  MdnsSocket(uv_loop_t* loop, OnPacket on_packet);
  ~MdnsSocket() = default;  // closing the handle is the UvHandle's job
  MdnsSocket(const MdnsSocket&) = delete;
  MdnsSocket& operator=(const MdnsSocket&) = delete;

  // Opens, configures, binds and joins. `family` is AF_INET or AF_INET6; `port` is the mDNS
  // port (bound, and the destination of multicast sends). On failure the socket is closed and
  // no packet is ever delivered.
  Status open(int family, const std::string& ifname, unsigned ifindex, uint16_t port,
              const MdnsSocketOptions& options = {});
  // Sends to the group of this socket's family on its interface.
  Status sendMulticast(ByteView data);
  // Sends to a numeric unicast address of this socket's family.
  Status sendTo(ByteView data, const MdnsEndpoint& to);
  int family() const { return family_; }
  // The socket's descriptor, for tests and diagnostics (getsockopt); -1 if not open.
  int fd() const;

 private:
  static void onAlloc(uv_handle_t* h, size_t suggested, uv_buf_t* buf);
  static void onRecv(uv_udp_t* h, ssize_t nread, const uv_buf_t* buf, const sockaddr* addr,
                     unsigned flags);
  Status configure(const std::string& ifname, unsigned ifindex, uint16_t port,
                   const MdnsSocketOptions& options);
  Status send(ByteView data, const sockaddr* dest);

  uv_loop_t* loop_;
  OnPacket on_packet_;
  UvHandle<uv_udp_t> udp_;
  int family_ = 0;
  unsigned ifindex_ = 0;
  uint16_t port_ = 0;
  std::array<char, kDnsMaxPacketSize + 1> buffer_{};
};

}  // namespace meshslice
