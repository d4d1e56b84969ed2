// One mDNS UDP socket: one address family on one interface, bound to the mDNS port shared with
// other responders (SO_REUSEADDR + SO_REUSEPORT), joined to the group on that interface only,
// with multicast sends pinned to it (IP_MULTICAST_IF / IPV6_MULTICAST_IF), loopback on and
// hop limit 255. SO_BINDTODEVICE and IP(V6)_MULTICAST_ALL=0 keep packets of other interfaces
// out, so a packet's socket tells its interface.
//
// Owns its uv_udp_t (base/uv_handle.h rules). Loop thread only. The packet callback runs on the
// loop thread and never after the socket is destroyed.
#pragma once

#include <uv.h>

#include <array>
#include <functional>
#include <string>

#include "base/bytes.h"
#include "base/status.h"
#include "base/uv_handle.h"
#include "mesh/dns_message.h"
#include "mesh/mdns_constants.h"

namespace meshslice {

class MdnsSocket {
 public:
  // `oversize` is true when the datagram was larger than kDnsMaxPacketSize (data is cut).
  using OnPacket = std::function<void(ByteView data, const MdnsEndpoint& from, bool oversize)>;

  MdnsSocket(uv_loop_t* loop, OnPacket on_packet);
  ~MdnsSocket() = default;  // closing the handle is the UvHandle's job
  MdnsSocket(const MdnsSocket&) = delete;
  MdnsSocket& operator=(const MdnsSocket&) = delete;

  // Opens, configures, binds and joins. `family` is AF_INET or AF_INET6. On failure the
  // socket is closed and no packet is ever delivered.
  Status open(int family, const std::string& ifname, unsigned ifindex, uint16_t port);
  // Sends to the group of this socket's family on its interface.
  Status sendMulticast(ByteView data);
  // Sends to a numeric unicast address of this socket's family.
  Status sendTo(ByteView data, const MdnsEndpoint& to);
  int family() const { return family_; }

 private:
  static void onAlloc(uv_handle_t* h, size_t suggested, uv_buf_t* buf);
  static void onRecv(uv_udp_t* h, ssize_t nread, const uv_buf_t* buf, const sockaddr* addr,
                     unsigned flags);
  Status configure(const std::string& ifname, unsigned ifindex, uint16_t port);
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
