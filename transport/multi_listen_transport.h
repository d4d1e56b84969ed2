// MultiListenTransport: a Transport that may listen() more than once, one listener per call,
// by giving each further listen() its own inner transport from a factory. Connects go through
// the first inner transport. MeshCore uses it to listen on several addresses (one per selected
// network interface) with transports that accept a single listen() each (TcpTransport,
// MemoryTransport).
//
// Threading and lifetime: as the inner transports (loop thread only). Links handed out outlive
// it as they outlive their transport. stop() stops every inner transport.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "transport/link.h"

namespace meshslice {

class MultiListenTransport final : public Transport {
 public:
  using Factory = std::function<std::unique_ptr<Transport>()>;
  // `make` is called once now and once per listen() after the first.
  explicit MultiListenTransport(Factory make);
  ~MultiListenTransport() override;

  // Each call adds a listener; a failed call leaves the others as they were.
  Result<std::string> listen(const std::string& address, AcceptFn on_accept) override;
  Status connect(const std::string& address, ConnectFn done) override;
  void stop() override;

  size_t listenerCount() const { return listening_; }

 private:
  Factory make_;
  std::vector<std::unique_ptr<Transport>> inner_;  // [0] dials and takes the first listener
  size_t listening_ = 0;
};

}  // namespace meshslice
