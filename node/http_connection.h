// One TCP connection of the daemon's HTTP server (node/http_server.h): it parses requests
// (node/http_request_parser.h), hands each to the HttpHandler, writes the answers in order,
// and after an accepted upgrade carries WebSocket messages (node/websocket_codec.h).
//
// Rules: a request that fails to parse is answered with its status (400, 413, 414, 431, 501,
// 505) and the connection is closed; a request not complete within request_timeout gets 408
// and is closed; a keep-alive connection idle for idle_timeout is closed. A connection with
// more than max_backlog bytes of unsent output is dropped (a client that does not read). When
// the server closes after an answer it shuts down its side, then reads and discards what the
// client still sends for a moment, so the client sees the answer rather than a reset.
//
// Threading and lifetime: loop thread only; owned by the HttpServer. A HttpConnection& is
// valid until the handler's onClosed() for it returned.
#pragma once

#include <uv.h>

#include <functional>
#include <memory>
#include <string>

#include "base/env.h"
#include "base/uv_handle.h"
#include "node/http_request_parser.h"
#include "node/http_response.h"
#include "node/websocket_codec.h"

namespace meshslice {

class HttpServer;

class HttpConnection {
 public:
  HttpConnection(HttpServer& server, uint64_t id);
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  uint64_t id() const { return id_; }
  bool closed() const { return closed_; }
  bool isWebSocket() const { return ws_ != nullptr; }
  const std::string& remoteAddress() const { return remote_; }
  // Output queued to the kernel and not yet written.
  size_t queuedBytes() const;

  // Answers the request being handled. Call it (or acceptWebSocket) exactly once from
  // HttpHandler::onRequest; later calls are ignored. `on_written` runs (loop thread) when the
  // kernel took the answer, or when the write failed or was cancelled by a close.
  void respond(HttpResponse response, std::function<void()> on_written = {});
  // Answers a WebSocket upgrade request with 101 and from then on carries messages. `protocol`
  // is echoed as Sec-WebSocket-Protocol (empty: none). If the request is not a valid upgrade
  // (RFC 6455 §4.2.1), answers 400 (426 for another Sec-WebSocket-Version) and returns false.
  bool acceptWebSocket(const HttpRequest& request, std::string_view protocol, HttpResponse extra = {});
  // Queues a text message to a WebSocket client; a client over max_backlog is dropped.
  void sendText(std::string_view text);
  // Sends a Close frame and closes once it is written.
  void closeWebSocket(uint16_t code, std::string_view reason);

 private:
  friend class HttpServer;
  enum class TimerKind { kNone, kIdle, kRequest, kLinger };

  Status start(uv_loop_t* loop, uv_stream_t* listener);
  static void onRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  void handleBytes(std::string_view bytes);
  void handleHttp(std::string_view bytes);
  void handleWebSocket(std::string_view bytes);
  void dispatch(HttpRequest& request);
  void refuseRequest(HttpParseError error, const std::string& message);
  // Queues bytes; drops the connection instead if its backlog is over the limit.
  void write(std::string data, std::function<void()> on_written = {});
  // Stops taking requests: shuts down our side after the queued output, discards what still
  // arrives until the client closes or the linger time passed, then closes.
  void finish();
  void armTimer(TimerKind kind);
  void onTimer();

  HttpServer& server_;
  uint64_t id_;
  UvHandle<uv_tcp_t> tcp_;
  std::string remote_;
  std::string read_buffer_;
  HttpRequestParser parser_;
  std::unique_ptr<WsDecoder> ws_;
  std::unique_ptr<Timer> timer_;
  TimerKind timer_kind_ = TimerKind::kNone;
  bool closed_ = false;
  bool finishing_ = false;       // no more requests: discarding input until close
  bool responded_ = false;       // the current request was answered
  bool close_after_ = false;     // the current request asked for Connection: close
  bool head_only_ = false;       // the current request is a HEAD
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // reset on close: callbacks check it
};

}  // namespace meshslice
