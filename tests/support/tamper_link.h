// A Link decorator for fault injection: lets a test rewrite, drop, duplicate or reorder the
// frames a link delivers, and see the frames it sends.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "transport/link.h"

namespace meshslice::test {

class TamperLink final : public Link, private LinkHandler {
 public:
  // Returns the frames to deliver instead of `frame` (empty: drop it).
  using Rewrite = std::function<std::vector<Bytes>(size_t index, ByteView frame)>;

  explicit TamperLink(std::unique_ptr<Link> inner) : inner_(std::move(inner)) {}
  void setIncoming(Rewrite rewrite) { incoming_ = std::move(rewrite); }
  const std::vector<Bytes>& sent() const { return sent_; }
  const std::vector<Bytes>& received() const { return received_; }

  void start(LinkHandler* handler) override {
    handler_ = handler;
    inner_->start(this);
  }
  Status sendFrame(ByteView body) override {
    sent_.emplace_back(body.begin(), body.end());
    return inner_->sendFrame(body);
  }
  void close(const Status& reason) override { inner_->close(reason); }
  size_t queuedBytes() const override { return inner_->queuedBytes(); }
  bool hasRoomFor(size_t n) const override { return inner_->hasRoomFor(n); }
  std::string remoteAddress() const override { return inner_->remoteAddress(); }
  bool isOpen() const override { return inner_->isOpen(); }

 private:
  void onFrame(ByteView frame) override {
    received_.emplace_back(frame.begin(), frame.end());
    if (!incoming_) return handler_->onFrame(frame);
    for (const Bytes& f : incoming_(index_++, frame)) handler_->onFrame(f);
  }
  void onLinkClosed(const Status& reason) override { handler_->onLinkClosed(reason); }
  void onLinkDrained() override { handler_->onLinkDrained(); }

  std::unique_ptr<Link> inner_;
  LinkHandler* handler_ = nullptr;
  Rewrite incoming_;
  size_t index_ = 0;
  std::vector<Bytes> sent_, received_;
};

}  // namespace meshslice::test
