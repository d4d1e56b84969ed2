// The connections of a local server (ControlServer, HttpServer): the live ones, and those
// closed but not yet freed. A closed connection is freed on a later loop turn, so that code
// further up the stack (a read callback, a broadcast loop) may still look at it.
//
// Threading and lifetime: loop thread only; `env` must outlive the list. Destroying the list
// (or clear()) frees every connection at once; their handles must be closed by then.
#pragma once

#include <list>
#include <memory>

#include "base/env.h"

namespace meshslice {

template <typename Conn>
class ConnectionList {
 public:
  explicit ConnectionList(Env& env) : env_(env) {}
  ConnectionList(const ConnectionList&) = delete;
  ConnectionList& operator=(const ConnectionList&) = delete;

  void add(std::unique_ptr<Conn> conn) { live_.push_back(std::move(conn)); }
  // Takes a closed `conn` out of the live ones; it is freed on a later turn.
  void retire(Conn& conn) {
    for (auto it = live_.begin(); it != live_.end(); ++it) {
      if (it->get() != &conn) continue;
      retired_.splice(retired_.end(), live_, it);
      break;
    }
    if (reap_posted_) return;
    reap_posted_ = true;
    env_.post([weak = std::weak_ptr<int>(alive_), this] {
      if (weak.expired()) return;
      reap_posted_ = false;
      retired_.clear();
    });
  }
  // Frees the retired connections now (a server's stop(), after closing every one).
  void freeRetired() { retired_.clear(); }

  size_t size() const { return live_.size(); }
  bool empty() const { return live_.empty(); }
  Conn& front() { return *live_.front(); }
  auto begin() const { return live_.begin(); }
  auto end() const { return live_.end(); }

 private:
  Env& env_;
  std::list<std::unique_ptr<Conn>> live_;
  std::list<std::unique_ptr<Conn>> retired_;
  bool reap_posted_ = false;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace meshslice
