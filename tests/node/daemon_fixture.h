// Running real `meshslice up` processes on loopback for end-to-end tests. NETWORK RULE: every
// daemon gets --no-mdns and listens on 127.0.0.1 only.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <thread>

#include "node/control_client.h"
#include "node/state_dir.h"
#include "tests/mesh/scoped_temp_dir.h"
#include "tests/node/child_process.h"

namespace meshslice::test {

struct RunningDaemon {
  std::string dir;
  std::string err_path;
  std::unique_ptr<Child> child;
  std::string device, name, listen, control, invite, http;
  std::vector<std::string> listens;  // every "listen:" line; `listen` is the first

  std::string stderrText() const { return readFile(err_path); }
};

// Starts `meshslice up --state-dir dir <args>` and reads its startup lines up to "ready".
// nullptr (with a test failure naming its stderr) if it does not get there.
inline std::unique_ptr<RunningDaemon> startDaemonWithArgs(const std::string& dir, const std::vector<std::string>& args,
                                                          BeforeExec before_exec = nullptr, void* arg = nullptr) {
  auto d = std::make_unique<RunningDaemon>();
  d->dir = dir;
  d->err_path = dir + ".err";
  std::vector<std::string> all = {"up", "--state-dir", dir};
  all.insert(all.end(), args.begin(), args.end());
  d->child = std::make_unique<Child>(all, d->err_path, "", before_exec, arg);
  for (;;) {
    auto line = d->child->readLine(20000);
    if (!line) {
      ADD_FAILURE() << "daemon on " << dir << " did not start: " << d->stderrText();
      return nullptr;
    }
    if (*line == "ready") return d;
    size_t colon = line->find(": ");
    if (colon == std::string::npos) continue;
    std::string key = line->substr(0, colon), value = line->substr(colon + 2);
    if (key == "device") d->device = value;
    else if (key == "name") d->name = value;
    else if (key == "listen") {
      if (d->listen.empty()) d->listen = value;
      d->listens.push_back(value);
    }
    else if (key == "control") d->control = value;
    else if (key == "http") d->http = value;
    else if (key == "invite") d->invite = value;
  }
}

// A daemon on 127.0.0.1 without mDNS, plus `extra` flags.
inline std::unique_ptr<RunningDaemon> startDaemon(const std::string& dir, std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"--no-mdns", "--listen", "127.0.0.1:0", "--log-level", "info"};
  args.insert(args.end(), extra.begin(), extra.end());
  return startDaemonWithArgs(dir, args);
}

// A second daemon in `a`'s mesh: `mesh join` of a's invite into `dir`, then startDaemon with
// `--peer a.listen` plus `extra`. nullptr (with a test failure) if the join or the start fails.
inline std::unique_ptr<RunningDaemon> startJoined(const RunningDaemon& a, const std::string& dir,
                                                  std::vector<std::string> extra = {}) {
  const std::string scratch = dir.substr(0, dir.rfind('/'));  // dir's parent, where `run` keeps stderr
  auto joined = run({"mesh", "join", a.invite, "--state-dir", dir}, scratch.empty() ? "." : scratch);
  if (joined.code != 0) {
    ADD_FAILURE() << "mesh join into " << dir << " failed: " << joined.err;
    return nullptr;
  }
  extra.insert(extra.end(), {"--peer", a.listen});
  return startDaemon(dir, std::move(extra));
}

// One control call to the daemon on `dir`.
inline Result<Json> rpcCall(const std::string& dir, const std::string& method, Json params = Json::object()) {
  auto c = ControlClient::connect(controlSocketPath(dir));
  if (!c) return c.status();
  return c->call(method, std::move(params), 10000);
}

// Polls `pred` until it holds or timeout_ms passes (the state lives in other processes: there
// is no event to wait on from here).
inline bool eventually(const std::function<bool()>& pred, int timeout_ms = 15000) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

inline size_t peerCount(const std::string& dir) {
  auto r = rpcCall(dir, "peers");
  return r ? (*r)["peers"].size() : 0;
}

inline size_t lineCount(const std::string& s) { return static_cast<size_t>(std::count(s.begin(), s.end(), '\n')); }

}  // namespace meshslice::test
