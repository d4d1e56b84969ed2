// HttpServer: the daemon's local web API server (docs/HTTP.md). HTTP/1.1 and WebSocket on a
// TCP listener of the node's own libuv loop: no other thread or event loop. The protocol work
// is in HttpConnection (node/http_connection.h); what each request means is the
// HttpHandler's business (node/http_api.h).
//
// Bounds: at most max_connections connections (the next one is answered 503 and closed);
// requests as node/http_request_parser.h limits them; WebSocket messages from clients of at
// most max_ws_message bytes (larger: closed with 1009); at most max_backlog bytes of unsent
// output per connection (a client that does not read is dropped). Every refusal is counted in
// stats(), by reason.
//
// Threading and lifetime: loop thread only; `env` and `loop` must outlive the server. stop()
// (or the destructor) closes the listener and every connection; all handles are closed on the
// loop's next turn.
#pragma once

#include <uv.h>

#include <array>
#include <map>
#include <memory>
#include <string>

#include "base/env.h"
#include "base/uv_handle.h"
#include "node/connection_list.h"
#include "node/http_connection.h"

namespace meshslice {

struct HttpServerOptions {
  size_t max_connections = 128;
  size_t max_backlog = 16 * 1024 * 1024;
  // From the first byte of a request to its last.
  Micros request_timeout = 10 * kSeconds;
  // A keep-alive connection waiting for its next request. WebSockets have no idle limit.
  Micros idle_timeout = 60 * kSeconds;
  // After the server's last answer on a connection: how long it discards what the client
  // still sends before closing.
  Micros linger = 2 * kSeconds;
  size_t max_body = kMaxHttpBody;
  size_t max_ws_message = 64 * 1024;
};

// Why a request or connection was refused. The first group is the server's, the second the
// handler's (HttpServer::countRefusal).
enum class HttpRefusal : uint8_t {
  kMalformed,           // 400: bad request syntax
  kRequestLineTooLong,  // 414
  kHeadTooLarge,        // 431: request head too large or too many header fields
  kBodyTooLarge,        // 413
  kTransferEncoding,    // 501
  kHttpVersion,         // 505
  kTimeout,             // 408: a request not complete in time
  kTooManyConnections,  // 503
  kSlowClient,          // dropped: too much unsent output
  kBadUpgrade,          // 400/426: not a valid WebSocket upgrade
  kWsProtocol,          // WebSocket closed with 1002
  kWsTooBig,            // WebSocket closed with 1009
  kWsInvalidData,       // WebSocket closed with 1007
  kUnauthorized,        // 401: no or unknown token
  kReadOnly,            // 403: a read-only token on a method that changes state
  kOrigin,              // 403: Origin not allowed
  kHost,                // 421: Host not this server (DNS rebinding)
  kNotFound,            // 404
  kMethod,              // 405
  kBadJson,             // 400: a body that is not the JSON the method takes
  kCount,
};
inline constexpr size_t kHttpRefusalCount = static_cast<size_t>(HttpRefusal::kCount);
// "malformed", "head-too-large", ... (docs/HTTP.md, the reason label of the metrics).
const char* httpRefusalName(HttpRefusal refusal);

struct HttpServerStats {
  uint64_t connections_accepted = 0;
  uint64_t requests = 0;
  uint64_t websockets_accepted = 0;
  uint64_t ws_messages_sent = 0, ws_messages_received = 0;
  std::array<uint64_t, kHttpRefusalCount> refused{};
  std::map<int, uint64_t> responses;  // by status code
  uint64_t refusedFor(HttpRefusal r) const { return refused[static_cast<size_t>(r)]; }
};

class HttpHandler {
 public:
  // A complete request on `conn`: answer it before returning, with conn.respond() or
  // conn.acceptWebSocket().
  virtual void onRequest(HttpConnection& conn, HttpRequest& request) = 0;
  // A text or binary message from a WebSocket client.
  virtual void onWebSocketMessage(HttpConnection&, const WsMessage&) {}
  // The connection is closing (either side, or stop()): drop what refers to it.
  virtual void onClosed(HttpConnection& conn) = 0;

 protected:
  ~HttpHandler() = default;
};

class HttpServer {
 public:
  HttpServer(Env& env, uv_loop_t* loop, HttpHandler& handler, HttpServerOptions options = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Listens on a numeric "host:port" (port 0 picks one) and returns the bound address.
  // kInvalidArgument for a malformed address, kIo if it cannot be bound.
  Result<std::string> listen(const std::string& address);
  // Closes the listener and every connection (WebSocket clients get a best-effort Close 1001).
  // Idempotent.
  void stop();

  size_t connectionCount() const { return connections_.size(); }
  size_t webSocketCount() const;
  // Unsent output over every connection.
  size_t queuedBytes() const;
  const HttpServerStats& stats() const { return stats_; }
  const HttpServerOptions& options() const { return options_; }
  void countRefusal(HttpRefusal refusal) { ++stats_.refused[static_cast<size_t>(refusal)]; }

 private:
  friend class HttpConnection;
  static void onConnection(uv_stream_t* listener, int status);
  void refuse();
  // Closes `conn` and tells the handler; the object is freed on a later loop turn.
  void drop(HttpConnection& conn, const char* why);

  Env& env_;
  uv_loop_t* loop_;
  HttpHandler& handler_;
  HttpServerOptions options_;
  std::unique_ptr<UvHandle<uv_tcp_t>> listener_;
  ConnectionList<HttpConnection> connections_;
  uint64_t next_id_ = 1;
  HttpServerStats stats_;
};

}  // namespace meshslice
