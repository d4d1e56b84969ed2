// ControlServer: the daemon's local control socket. A Unix domain stream socket (mode 0600)
// carrying JSON-RPC 2.0, one message per '\n'-terminated line (docs/CONTROL.md). It frames
// lines, parses JSON (answering malformed lines with a JSON-RPC parse error) and hands each
// message to a ControlHandler, which answers through ControlConnection::send().
//
// Bounds: at most max_clients connections (the next one gets an error line and is closed),
// lines of at most max_line bytes (a longer one closes the connection), and at most
// max_backlog bytes queued towards a client that does not read (it is dropped).
//
// Threading and lifetime: everything runs on the loop thread of `loop`; `env` and `loop` must
// outlive the server. stop() (or the destructor) closes every handle and removes the socket
// file. Connections are owned by the server; a ControlConnection& is valid until the handler's
// onClosed() for it returned.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <string>

#include "base/env.h"
#include "base/uv_handle.h"
#include "node/connection_list.h"
#include "node/json_util.h"
#include "node/line_splitter.h"

namespace meshslice {

struct ControlServerOptions {
  size_t max_clients = 64;
  size_t max_line = 2 * 1024 * 1024;
  size_t max_backlog = 64 * 1024 * 1024;
};

class ControlServer;

class ControlConnection {
 public:
  ControlConnection(ControlServer& server, uint64_t id);
  ControlConnection(const ControlConnection&) = delete;
  ControlConnection& operator=(const ControlConnection&) = delete;

  uint64_t id() const { return id_; }
  bool closed() const { return closed_; }
  // Queues `message` as one line. `on_written` runs (loop thread) once the kernel took it; it
  // never runs if the connection closes first. A client with more than max_backlog bytes
  // unread is dropped instead.
  void send(const Json& message, std::function<void()> on_written = {});

 private:
  friend class ControlServer;
  static void onRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  void handleBytes(std::string_view bytes);

  ControlServer& server_;
  uint64_t id_;
  UvHandle<uv_pipe_t> pipe_;
  LineSplitter lines_;
  std::string read_buffer_;
  bool closed_ = false;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // reset on close: write callbacks check it
};

class ControlHandler {
 public:
  // One JSON value received on `conn` (an object, or an array for a batch; other values too,
  // which the handler answers with kInvalidRequest).
  virtual void onMessage(ControlConnection& conn, const Json& message) = 0;
  // The connection is closing (client left, error, or server stop): drop per-client state.
  virtual void onClosed(ControlConnection& conn) = 0;

 protected:
  ~ControlHandler() = default;
};

class ControlServer {
 public:
  ControlServer(Env& env, uv_loop_t* loop, ControlHandler& handler, ControlServerOptions options = {});
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Binds `path` (mode 0600) and listens. A stale socket file at `path` is replaced: the caller
  // must hold the state directory's lock, so no live daemon owns it. kInvalidArgument if the
  // path does not fit in sockaddr_un, kIo otherwise.
  Status listen(const std::string& path);
  // Closes the listener and every connection and unlinks the socket file. Idempotent.
  void stop();
  size_t connectionCount() const { return connections_.size(); }
  const ControlServerOptions& options() const { return options_; }

 private:
  friend class ControlConnection;
  static void onConnection(uv_stream_t* server, int status);
  void accept();
  void refuse(const char* reason);
  // Closes `conn` and tells the handler; the object is freed on a later loop turn, so callers
  // up the stack may still look at it.
  void drop(ControlConnection& conn, const char* why);

  uv_loop_t* loop_;
  ControlHandler& handler_;
  ControlServerOptions options_;
  std::string path_;
  std::unique_ptr<UvHandle<uv_pipe_t>> listener_;
  ConnectionList<ControlConnection> connections_;
  uint64_t next_id_ = 1;
};

}  // namespace meshslice
