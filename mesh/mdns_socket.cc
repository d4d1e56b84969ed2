#include "mesh/mdns_socket.h"

#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

#include "base/log.h"

namespace meshslice {
namespace {

#ifndef IP_MULTICAST_ALL
#define IP_MULTICAST_ALL 49
#endif
#ifndef IPV6_MULTICAST_ALL
#define IPV6_MULTICAST_ALL 29
#endif

Status sysError(const char* what) { return ioError(std::string(what) + ": " + std::strerror(errno)); }
Status uvError(const char* what, int rc) { return ioError(std::string(what) + ": " + uv_strerror(rc)); }

Status setInt(int fd, int level, int name, int value, const char* what) {
  if (setsockopt(fd, level, name, &value, sizeof value) != 0) return sysError(what);
  return Status::ok();
}

}  // namespace

MdnsSocket::MdnsSocket(uv_loop_t* loop, OnPacket on_packet)
    : loop_(loop), on_packet_(std::move(on_packet)) {}

Status MdnsSocket::open(int family, const std::string& ifname, unsigned ifindex, uint16_t port,
                        const MdnsSocketOptions& options) {
  assert(!udp_.initialized());
  family_ = family;
  ifindex_ = ifindex;
  port_ = port;
  int rc = uv_udp_init_ex(loop_, udp_.get(), static_cast<unsigned>(family));
  if (rc != 0) return uvError("uv_udp_init_ex", rc);
  udp_.markInitialized(this);
  Status st = configure(ifname, ifindex, port, options);
  if (!st.isOk()) udp_.close();
  return st;
}

int MdnsSocket::fd() const {
  uv_os_fd_t fd = -1;
  if (!udp_.initialized() || !udp_.get() || uv_fileno(udp_.handle(), &fd) != 0) return -1;
  return fd;
}

Status MdnsSocket::configure(const std::string& ifname, unsigned ifindex, uint16_t port,
                             const MdnsSocketOptions& options) {
  uv_os_fd_t fd = -1;
  int rc = uv_fileno(udp_.handle(), &fd);
  if (rc != 0) return uvError("uv_fileno", rc);
  // SO_REUSEPORT must be set before bind for avahi and other responders to share the port.
  MS_RETURN_IF_ERROR(setInt(fd, SOL_SOCKET, SO_REUSEPORT, 1, "SO_REUSEPORT"));
  if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname.c_str(),
                 static_cast<socklen_t>(ifname.size() + 1)) != 0) {
    int err = errno;
    if (options.require_bind_to_device) {
      return ioError("SO_BINDTODEVICE " + ifname + ": " + std::strerror(err) +
                     " (a configured interface must be bound)");
    }
    // Unprivileged on an old kernel: IP_MULTICAST_ALL=0 still keeps other links' multicast out.
    MS_LOG(kWarn, "mdns") << "SO_BINDTODEVICE " << ifname << ": " << std::strerror(err);
  }
  const bool v4 = family_ == AF_INET;
  if (v4) {
    MS_RETURN_IF_ERROR(setInt(fd, IPPROTO_IP, IP_MULTICAST_ALL, 0, "IP_MULTICAST_ALL"));
  } else {
    MS_RETURN_IF_ERROR(setInt(fd, IPPROTO_IPV6, IPV6_MULTICAST_ALL, 0, "IPV6_MULTICAST_ALL"));
  }
  sockaddr_storage any{};
  const uint16_t bind_port = options.ephemeral ? 0 : port;
  if (v4) {
    uv_ip4_addr("0.0.0.0", bind_port, reinterpret_cast<sockaddr_in*>(&any));
  } else {
    uv_ip6_addr("::", bind_port, reinterpret_cast<sockaddr_in6*>(&any));
  }
  unsigned flags = UV_UDP_REUSEADDR | (v4 ? 0 : UV_UDP_IPV6ONLY);
  rc = uv_udp_bind(udp_.get(), reinterpret_cast<sockaddr*>(&any), flags);
  if (rc != 0) return uvError("uv_udp_bind", rc);
  if (v4) {
    ip_mreqn mreq{};
    inet_pton(AF_INET, mdns::kIpv4Group, &mreq.imr_multiaddr);
    mreq.imr_ifindex = static_cast<int>(ifindex);
    if (!options.ephemeral && setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof mreq) != 0) {
      return sysError("IP_ADD_MEMBERSHIP");
    }
    ip_mreqn pin{};
    pin.imr_ifindex = static_cast<int>(ifindex);
    if (options.ipv4_source) std::memcpy(&pin.imr_address, options.ipv4_source->data(), 4);
    if (setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &pin, sizeof pin) != 0) {
      return sysError("IP_MULTICAST_IF");
    }
  } else {
    ipv6_mreq mreq{};
    inet_pton(AF_INET6, mdns::kIpv6Group, &mreq.ipv6mr_multiaddr);
    mreq.ipv6mr_interface = ifindex;
    if (!options.ephemeral && setsockopt(fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mreq, sizeof mreq) != 0) {
      return sysError("IPV6_JOIN_GROUP");
    }
    MS_RETURN_IF_ERROR(setInt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, static_cast<int>(ifindex),
                              "IPV6_MULTICAST_IF"));
    MS_RETURN_IF_ERROR(setInt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, mdns::kMulticastTtl,
                              "IPV6_UNICAST_HOPS"));
  }
  rc = uv_udp_set_multicast_loop(udp_.get(), 1);
  if (rc != 0) return uvError("multicast loop", rc);
  rc = uv_udp_set_multicast_ttl(udp_.get(), mdns::kMulticastTtl);
  if (rc != 0) return uvError("multicast ttl", rc);
  if (v4) {
    rc = uv_udp_set_ttl(udp_.get(), mdns::kMulticastTtl);
    if (rc != 0) return uvError("ttl", rc);
  }
  rc = uv_udp_recv_start(udp_.get(), &MdnsSocket::onAlloc, &MdnsSocket::onRecv);
  if (rc != 0) return uvError("uv_udp_recv_start", rc);
  return Status::ok();
}

void MdnsSocket::onAlloc(uv_handle_t* h, size_t, uv_buf_t* buf) {
  auto* self = ownerOf<MdnsSocket>(h);
  if (!self) {
    *buf = uv_buf_init(nullptr, 0);
    return;
  }
  *buf = uv_buf_init(self->buffer_.data(), static_cast<unsigned>(self->buffer_.size()));
}

void MdnsSocket::onRecv(uv_udp_t* h, ssize_t nread, const uv_buf_t* buf, const sockaddr* addr,
                        unsigned flags) {
  auto* self = ownerOf<MdnsSocket>(h);
  if (!self || nread <= 0 || !addr) return;  // nothing more to read, or a transient error
  MdnsEndpoint from;
  char text[INET6_ADDRSTRLEN] = {};
  if (addr->sa_family == AF_INET) {
    auto* in = reinterpret_cast<const sockaddr_in*>(addr);
    uv_ip4_name(in, text, sizeof text);
    from.port = ntohs(in->sin_port);
  } else if (addr->sa_family == AF_INET6) {
    auto* in6 = reinterpret_cast<const sockaddr_in6*>(addr);
    uv_ip6_name(in6, text, sizeof text);
    from.port = ntohs(in6->sin6_port);
  } else {
    return;
  }
  from.address = text;
  size_t n = static_cast<size_t>(nread);
  bool oversize = (flags & UV_UDP_PARTIAL) != 0 || n > kDnsMaxPacketSize;
  ByteView data(reinterpret_cast<const uint8_t*>(buf->base), std::min(n, kDnsMaxPacketSize));
  self->on_packet_(data, from, oversize);
}

Status MdnsSocket::send(ByteView data, const sockaddr* dest) {
  if (!udp_.initialized() || !udp_.get()) return Status(Code::kClosed, "mdns socket closed");
  uv_buf_t b = uv_buf_init(const_cast<char*>(reinterpret_cast<const char*>(data.data())),
                           static_cast<unsigned>(data.size()));
  // Datagrams are small and the socket is non-blocking: a synchronous try_send avoids owning
  // request buffers, and lets goodbyes leave before the handle closes.
  int rc = uv_udp_try_send(udp_.get(), &b, 1, dest);
  if (rc < 0) return uvError("uv_udp_try_send", rc);
  return Status::ok();
}

Status MdnsSocket::sendMulticast(ByteView data) {
  sockaddr_storage dest{};
  if (family_ == AF_INET) {
    uv_ip4_addr(mdns::kIpv4Group, port_, reinterpret_cast<sockaddr_in*>(&dest));
  } else {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&dest);
    uv_ip6_addr(mdns::kIpv6Group, port_, in6);
    in6->sin6_scope_id = ifindex_;
  }
  return send(data, reinterpret_cast<sockaddr*>(&dest));
}

Status MdnsSocket::sendTo(ByteView data, const MdnsEndpoint& to) {
  sockaddr_storage dest{};
  if (family_ == AF_INET) {
    if (uv_ip4_addr(to.address.c_str(), to.port, reinterpret_cast<sockaddr_in*>(&dest)) != 0) {
      return invalidArgument("not an IPv4 address: " + to.address);
    }
  } else {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&dest);
    std::string host = to.address.substr(0, to.address.find('%'));
    if (uv_ip6_addr(host.c_str(), to.port, in6) != 0) {
      return invalidArgument("not an IPv6 address: " + to.address);
    }
    in6->sin6_scope_id = ifindex_;
  }
  return send(data, reinterpret_cast<sockaddr*>(&dest));
}

}  // namespace meshslice
