// Transport over libuv TCP. Numeric addresses only ("127.0.0.1:0", "[::1]:7000").
#pragma once

#include <list>
#include <memory>

#include "base/event_loop.h"
#include "transport/link.h"
#include "transport/tcp_link.h"

namespace meshslice {

struct TcpTransportOptions {
  TcpLinkOptions link;
  uint64_t connect_timeout_ms = 5000;
  int backlog = 128;
};

class TcpTransport final : public Transport {
 public:
  // `loop` must outlive this object. Used only on the loop thread.
  TcpTransport(EventLoop& loop, TcpTransportOptions options = {});
  ~TcpTransport() override;

  Result<std::string> listen(const std::string& address, AcceptFn on_accept) override;
  Status connect(const std::string& address, ConnectFn done) override;
  void stop() override;

 private:
  struct PendingConnect;
  static void onConnection(uv_stream_t* server, int status);
  static void onConnected(uv_connect_t* req, int status);
  void finishConnect(PendingConnect* pc, Result<std::unique_ptr<Link>> result);

  EventLoop& loop_;
  TcpTransportOptions options_;
  std::unique_ptr<UvHandle<uv_tcp_t>> listener_;
  AcceptFn on_accept_;
  std::list<std::unique_ptr<PendingConnect>> pending_;
};

}  // namespace meshslice
