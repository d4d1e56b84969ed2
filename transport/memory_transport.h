// In-memory transport for tests: links between transports on one MemoryNetwork, delivered
// through Env::post so that with FakeEnv every run is deterministic. Plaintext by nature; it
// exists only for tests (the mesh layer still runs Noise over it).
//
// Fault injection: pause a link's reading (the sender's queue fills and pushes back), cut all
// links of an address (as if the host vanished), refuse connections.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "base/env.h"
#include "transport/link.h"

namespace meshslice {

class MemoryTransport;
class MemoryLink;

class MemoryNetwork {
 public:
  explicit MemoryNetwork(Env& env) : env_(env) {}
  ~MemoryNetwork();
  Env& env() { return env_; }

  // Closes every link with an end at `address` (both ends see onLinkClosed).
  void cutLinksOf(const std::string& address);
  // While set, connects to `address` fail with kIo ("connection refused").
  void setRefusing(const std::string& address, bool refusing);
  size_t openLinks() const { return links_.size(); }
  // Every link created so far, including closed ones; for fault tests.
  const std::set<MemoryLink*>& links() const { return links_; }

 private:
  friend class MemoryTransport;
  friend class MemoryLink;
  Env& env_;
  std::map<std::string, MemoryTransport*> listeners_;
  std::set<std::string> refusing_;
  std::set<MemoryLink*> links_;
  uint64_t next_port_ = 1;
};

struct MemoryLinkOptions {
  size_t write_queue_limit = 4 * 1024 * 1024;
};

class MemoryTransport final : public Transport {
 public:
  // `local_name` names this transport's end in remoteAddress() of its outgoing links.
  MemoryTransport(MemoryNetwork& net, std::string local_name, MemoryLinkOptions options = {});
  ~MemoryTransport() override;

  Result<std::string> listen(const std::string& address, AcceptFn on_accept) override;
  Status connect(const std::string& address, ConnectFn done) override;
  void stop() override;

 private:
  MemoryNetwork& net_;
  std::string local_name_;
  MemoryLinkOptions options_;
  std::string listening_;
  AcceptFn on_accept_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

class MemoryLink final : public Link {
 public:
  MemoryLink(MemoryNetwork& net, std::string local, std::string remote, MemoryLinkOptions options);
  ~MemoryLink() override;

  void start(LinkHandler* handler) override;
  Status sendFrame(ByteView body) override;
  void close(const Status& reason) override;
  size_t queuedBytes() const override { return queued_; }
  // A "no" owes an onLinkDrained, as a refused sendFrame does (see TcpLink).
  bool hasRoomFor(size_t body_size) const override {
    const bool room = open_ && queued_ + body_size <= options_.write_queue_limit;
    if (!room && open_) busy_ = true;
    return room;
  }
  std::string remoteAddress() const override { return remote_; }
  bool isOpen() const override { return open_; }

  const std::string& localAddress() const { return local_; }
  // Stops (or resumes) reading: frames pile up and the sender's queue stays charged.
  void setReadPaused(bool paused);

 private:
  friend class MemoryNetwork;
  friend class MemoryTransport;
  void deliverInbox();
  void peerGone(const Status& reason);
  void closeWith(const Status& reason, bool notify_peer);

  MemoryNetwork& net_;
  std::string local_, remote_;
  MemoryLinkOptions options_;
  MemoryLink* peer_ = nullptr;
  LinkHandler* handler_ = nullptr;
  std::deque<std::pair<Bytes, MemoryLink*>> inbox_;  // frame, sender to credit
  size_t queued_ = 0;
  bool open_ = true;
  bool paused_ = false;
  mutable bool busy_ = false;
  bool delivering_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace meshslice
