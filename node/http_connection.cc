#include "node/http_connection.h"

#include "base/log.h"
#include "node/http_server.h"
#include "node/json_util.h"
#include "node/stream_write.h"
#include "transport/address.h"

namespace meshslice {
namespace {

constexpr size_t kReadChunk = 64 * 1024;

struct ShutdownRequest {
  uv_shutdown_t req;
  std::weak_ptr<int> conn_alive;
  HttpConnection* conn;
};

HttpRefusal refusalFor(HttpParseError error) {
  switch (error) {
    case HttpParseError::kRequestLineTooLong: return HttpRefusal::kRequestLineTooLong;
    case HttpParseError::kHeadTooLarge: return HttpRefusal::kHeadTooLarge;
    case HttpParseError::kBodyTooLarge: return HttpRefusal::kBodyTooLarge;
    case HttpParseError::kTransferEncoding: return HttpRefusal::kTransferEncoding;
    case HttpParseError::kVersion: return HttpRefusal::kHttpVersion;
    default: return HttpRefusal::kMalformed;
  }
}

HttpRefusal refusalForClose(uint16_t code) {
  if (code == ws_close::kMessageTooBig) return HttpRefusal::kWsTooBig;
  if (code == ws_close::kInvalidPayload) return HttpRefusal::kWsInvalidData;
  return HttpRefusal::kWsProtocol;
}

}  // namespace

HttpConnection::HttpConnection(HttpServer& server, uint64_t id)
    : server_(server), id_(id), parser_(server.options().max_body) {}

HttpConnection::~HttpConnection() { timer_.reset(); }

size_t HttpConnection::queuedBytes() const {
  return closed_ || !tcp_.initialized() ? 0 : uv_stream_get_write_queue_size(tcp_.stream());
}

Status HttpConnection::start(uv_loop_t* loop, uv_stream_t* listener) {
  int rc = uv_tcp_init(loop, tcp_.get());
  if (rc != 0) return ioError(std::string("tcp init: ") + uv_strerror(rc));
  tcp_.markInitialized(this);
  rc = uv_accept(listener, tcp_.stream());
  if (rc != 0) return ioError(std::string("accept: ") + uv_strerror(rc));
  sockaddr_storage peer{};
  int len = sizeof peer;
  if (uv_tcp_getpeername(tcp_.get(), reinterpret_cast<sockaddr*>(&peer), &len) == 0)
    remote_ = formatSocketAddress(reinterpret_cast<sockaddr*>(&peer));
  uv_tcp_nodelay(tcp_.get(), 1);
  read_buffer_.resize(kReadChunk);
  rc = uv_read_start(
      tcp_.stream(),
      [](uv_handle_t* h, size_t, uv_buf_t* buf) {
        auto* c = static_cast<HttpConnection*>(h->data);
        *buf = uv_buf_init(c->read_buffer_.data(), static_cast<unsigned>(c->read_buffer_.size()));
      },
      &HttpConnection::onRead);
  if (rc != 0) return ioError(std::string("read: ") + uv_strerror(rc));
  timer_ = server_.env_.newTimer([this] { onTimer(); });
  armTimer(TimerKind::kIdle);
  return Status::ok();
}

void HttpConnection::onRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t*) {
  auto* self = ownerOf<HttpConnection>(stream);
  if (!self || nread == 0) return;
  if (nread < 0) {
    self->server_.drop(*self, nread == UV_EOF ? nullptr : uv_strerror(static_cast<int>(nread)));
    return;
  }
  if (self->finishing_) return;  // after our last answer: discarded
  self->handleBytes(std::string_view(self->read_buffer_.data(), static_cast<size_t>(nread)));
}

void HttpConnection::handleBytes(std::string_view bytes) {
  if (ws_) handleWebSocket(bytes);
  else handleHttp(bytes);
}

void HttpConnection::handleHttp(std::string_view bytes) {
  while (!bytes.empty() && !closed_ && !finishing_ && !ws_) {
    size_t used = 0;
    HttpRequestParser::Result r = parser_.feed(bytes, &used);
    bytes.remove_prefix(used);
    if (r == HttpRequestParser::Result::kNeedMore) {
      if (parser_.started() && timer_kind_ != TimerKind::kRequest) armTimer(TimerKind::kRequest);
      return;
    }
    if (r == HttpRequestParser::Result::kError) {
      refuseRequest(parser_.error(), parser_.message());
      return;
    }
    HttpRequest request = std::move(parser_.request());
    parser_.reset();
    dispatch(request);
  }
  // Bytes after an upgrade request are the client's first frames.
  if (ws_ && !bytes.empty() && !closed_ && !finishing_) handleWebSocket(bytes);
}

void HttpConnection::dispatch(HttpRequest& request) {
  ++server_.stats_.requests;
  responded_ = false;
  close_after_ = !request.keepAlive();
  head_only_ = request.method == "HEAD";
  server_.handler_.onRequest(*this, request);
  if (closed_ || finishing_) return;
  if (!responded_) respond(httpErrorResponse(500, rpc::kInternalError, "the request was not answered"));
  if (ws_ || closed_) return;
  if (close_after_) finish();
  else armTimer(TimerKind::kIdle);
}

void HttpConnection::refuseRequest(HttpParseError error, const std::string& message) {
  server_.countRefusal(refusalFor(error));
  MS_LOG(kDebug, "http") << remote_ << ": refused request: " << message;
  responded_ = false;
  close_after_ = true;
  head_only_ = false;
  respond(httpErrorResponse(httpStatusFor(error), rpcCodeForHttpStatus(httpStatusFor(error)), message));
  finish();
}

void HttpConnection::respond(HttpResponse response, std::function<void()> on_written) {
  if (responded_ || closed_ || finishing_ || ws_) return;
  responded_ = true;
  ++server_.stats_.responses[response.status];
  write(serializeHttpResponse(response, close_after_, head_only_), std::move(on_written));
}

bool HttpConnection::acceptWebSocket(const HttpRequest& request, std::string_view protocol, HttpResponse extra) {
  if (responded_ || closed_ || finishing_ || ws_) return false;
  const std::string* key = request.header("sec-websocket-key");
  const std::string* version = request.header("sec-websocket-version");
  std::string problem;
  if (request.method != "GET" || request.minor_version != 1) problem = "a WebSocket upgrade is a GET over HTTP/1.1";
  else if (!request.headerHasToken("upgrade", "websocket") || !request.headerHasToken("connection", "upgrade"))
    problem = "missing 'Upgrade: websocket' / 'Connection: Upgrade'";
  else if (!key || !isValidWebSocketKey(*key)) problem = "missing or malformed Sec-WebSocket-Key";
  if (problem.empty() && (!version || *version != "13")) {
    server_.countRefusal(HttpRefusal::kBadUpgrade);
    respond(httpErrorResponse(426, rpc::kInvalidRequest, "only WebSocket version 13 is supported").with("Sec-WebSocket-Version", "13"));
    return false;
  }
  if (!problem.empty()) {
    server_.countRefusal(HttpRefusal::kBadUpgrade);
    respond(httpErrorResponse(400, rpc::kInvalidRequest, problem));
    return false;
  }
  HttpResponse r;
  r.status = 101;
  r.with("Upgrade", "websocket").with("Connection", "Upgrade").with("Sec-WebSocket-Accept", webSocketAccept(*key));
  if (!protocol.empty()) r.with("Sec-WebSocket-Protocol", std::string(protocol));
  for (auto& h : extra.headers) r.headers.push_back(std::move(h));
  responded_ = true;
  ++server_.stats_.responses[101];
  ++server_.stats_.websockets_accepted;
  write(serializeHttpResponse(r, false, false));
  ws_ = std::make_unique<WsDecoder>(server_.options_.max_ws_message);
  armTimer(TimerKind::kNone);
  return true;
}

void HttpConnection::handleWebSocket(std::string_view bytes) {
  auto failure = ws_->feed(bytes, [this](WsMessage&& m) {
    switch (m.opcode) {
      case WsOpcode::kPing:
        write(encodeWsFrame(WsOpcode::kPong, m.payload));
        break;
      case WsOpcode::kPong:
        break;
      case WsOpcode::kClose:
        // Echo the client's status code (none: an empty Close), then close.
        write(encodeWsFrame(WsOpcode::kClose, m.payload.substr(0, std::min<size_t>(2, m.payload.size()))));
        finish();
        return false;
      default:
        ++server_.stats_.ws_messages_received;
        server_.handler_.onWebSocketMessage(*this, m);
        break;
    }
    return !closed_ && !finishing_;
  });
  if (failure && !closed_ && !finishing_) {
    server_.countRefusal(refusalForClose(failure->close_code));
    MS_LOG(kDebug, "http") << remote_ << ": WebSocket closed with " << failure->close_code << ": " << failure->reason;
    write(encodeWsClose(failure->close_code, failure->reason));
    finish();
  }
}

void HttpConnection::sendText(std::string_view text) {
  if (!ws_ || closed_ || finishing_) return;
  ++server_.stats_.ws_messages_sent;
  write(encodeWsFrame(WsOpcode::kText, text));
}

void HttpConnection::closeWebSocket(uint16_t code, std::string_view reason) {
  if (!ws_ || closed_ || finishing_) return;
  write(encodeWsClose(code, reason));
  finish();
}

void HttpConnection::write(std::string data, std::function<void()> on_written) {
  if (closed_) return;
  if (queuedBytes() > server_.options_.max_backlog) {
    server_.countRefusal(HttpRefusal::kSlowClient);
    server_.drop(*this, "client is not reading (output backlog over the limit)");
    return;
  }
  std::function<void(int)> done;  // write errors show up on the read side
  if (on_written) done = [on_written = std::move(on_written)](int) { on_written(); };
  int rc = writeOwned(tcp_.stream(), std::move(data), std::move(done));
  if (rc != 0) server_.drop(*this, uv_strerror(rc));  // the write's callback never runs
}

void HttpConnection::finish() {
  if (closed_ || finishing_) return;
  finishing_ = true;
  auto* s = new ShutdownRequest{{}, alive_, this};
  s->req.data = s;
  // libuv runs the shutdown after the queued writes.
  int rc = uv_shutdown(&s->req, tcp_.stream(), [](uv_shutdown_t* req, int status) {
    std::unique_ptr<ShutdownRequest> s(static_cast<ShutdownRequest*>(req->data));
    if (status != 0 && !s->conn_alive.expired()) s->conn->server_.drop(*s->conn, nullptr);
  });
  if (rc != 0) {
    delete s;
    server_.drop(*this, nullptr);
    return;
  }
  armTimer(TimerKind::kLinger);
}

void HttpConnection::armTimer(TimerKind kind) {
  timer_kind_ = kind;
  if (!timer_) return;
  const HttpServerOptions& o = server_.options_;
  switch (kind) {
    case TimerKind::kNone: timer_->stop(); break;
    case TimerKind::kIdle: timer_->start(o.idle_timeout); break;
    case TimerKind::kRequest: timer_->start(o.request_timeout); break;
    case TimerKind::kLinger: timer_->start(o.linger); break;
  }
}

void HttpConnection::onTimer() {
  if (closed_) return;
  switch (timer_kind_) {
    case TimerKind::kRequest:
      server_.countRefusal(HttpRefusal::kTimeout);
      responded_ = false;
      close_after_ = true;
      head_only_ = false;
      respond(httpErrorResponse(408, rpc::kInvalidRequest, "the request did not arrive in time"));
      finish();
      break;
    case TimerKind::kIdle:
    case TimerKind::kLinger:
      server_.drop(*this, nullptr);
      break;
    case TimerKind::kNone:
      break;
  }
}

}  // namespace meshslice
