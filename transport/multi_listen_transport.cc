#include "transport/multi_listen_transport.h"

#include <cassert>

namespace meshslice {

MultiListenTransport::MultiListenTransport(Factory make) : make_(std::move(make)) {
  inner_.push_back(make_());
  assert(inner_.front());
}

MultiListenTransport::~MultiListenTransport() { stop(); }

Result<std::string> MultiListenTransport::listen(const std::string& address, AcceptFn on_accept) {
  if (listening_ == inner_.size()) inner_.push_back(make_());
  auto bound = inner_[listening_]->listen(address, std::move(on_accept));
  if (bound) ++listening_;
  return bound;
}

Status MultiListenTransport::connect(const std::string& address, ConnectFn done) {
  return inner_.front()->connect(address, std::move(done));
}

void MultiListenTransport::stop() {
  for (auto& t : inner_) t->stop();
  listening_ = 0;  // a later listen() reuses the stopped inner transports in order
}

}  // namespace meshslice
