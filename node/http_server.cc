#include "node/http_server.h"

#include "base/log.h"
#include "node/json_util.h"
#include "transport/address.h"

namespace meshslice {

const char* httpRefusalName(HttpRefusal refusal) {
  switch (refusal) {
    case HttpRefusal::kMalformed: return "malformed";
    case HttpRefusal::kRequestLineTooLong: return "request-line-too-long";
    case HttpRefusal::kHeadTooLarge: return "head-too-large";
    case HttpRefusal::kBodyTooLarge: return "body-too-large";
    case HttpRefusal::kTransferEncoding: return "transfer-encoding";
    case HttpRefusal::kHttpVersion: return "http-version";
    case HttpRefusal::kTimeout: return "timeout";
    case HttpRefusal::kTooManyConnections: return "too-many-connections";
    case HttpRefusal::kSlowClient: return "slow-client";
    case HttpRefusal::kBadUpgrade: return "bad-upgrade";
    case HttpRefusal::kWsProtocol: return "ws-protocol";
    case HttpRefusal::kWsTooBig: return "ws-too-big";
    case HttpRefusal::kWsInvalidData: return "ws-invalid-data";
    case HttpRefusal::kUnauthorized: return "unauthorized";
    case HttpRefusal::kReadOnly: return "read-only";
    case HttpRefusal::kOrigin: return "origin";
    case HttpRefusal::kHost: return "host";
    case HttpRefusal::kNotFound: return "not-found";
    case HttpRefusal::kMethod: return "method";
    case HttpRefusal::kBadJson: return "bad-json";
    case HttpRefusal::kCount: break;
  }
  return "unknown";
}

HttpServer::HttpServer(Env& env, uv_loop_t* loop, HttpHandler& handler, HttpServerOptions options)
    : env_(env), loop_(loop), handler_(handler), options_(options), connections_(env) {}

HttpServer::~HttpServer() { stop(); }

Result<std::string> HttpServer::listen(const std::string& address) {
  if (listener_) return Status(Code::kAlreadyExists, "already listening");
  auto addr = parseSocketAddress(address);
  if (!addr) return invalidArgument("HTTP address '" + address + "': " + addr.status().message());
  auto h = std::make_unique<UvHandle<uv_tcp_t>>();
  int rc = uv_tcp_init(loop_, h->get());
  if (rc != 0) return ioError(std::string("tcp init: ") + uv_strerror(rc));
  h->markInitialized(this);
  rc = uv_tcp_bind(h->get(), reinterpret_cast<const sockaddr*>(&addr.value()), 0);
  if (rc == 0) rc = uv_listen(h->stream(), 128, &HttpServer::onConnection);
  if (rc != 0) return ioError("HTTP listen on " + address + ": " + uv_strerror(rc));
  sockaddr_storage bound{};
  int len = sizeof bound;
  uv_tcp_getsockname(h->get(), reinterpret_cast<sockaddr*>(&bound), &len);
  listener_ = std::move(h);
  return formatSocketAddress(reinterpret_cast<sockaddr*>(&bound));
}

void HttpServer::stop() {
  listener_.reset();
  while (!connections_.empty()) {
    HttpConnection& conn = connections_.front();
    if (conn.isWebSocket() && !conn.finishing_) {
      std::string bye = encodeWsClose(ws_close::kGoingAway, "the daemon is stopping");
      uv_buf_t buf = uv_buf_init(bye.data(), static_cast<unsigned>(bye.size()));
      uv_try_write(conn.tcp_.stream(), &buf, 1);  // best effort; the close follows at once
    }
    drop(conn, nullptr);
  }
  connections_.freeRetired();  // handles are closed; libuv frees them in their close callbacks
}

size_t HttpServer::webSocketCount() const {
  size_t n = 0;
  for (const auto& c : connections_) n += c->isWebSocket() ? 1 : 0;
  return n;
}

size_t HttpServer::queuedBytes() const {
  size_t n = 0;
  for (const auto& c : connections_) n += c->queuedBytes();
  return n;
}

void HttpServer::onConnection(uv_stream_t* listener, int status) {
  auto* self = ownerOf<HttpServer>(listener);
  if (!self) return;
  if (status != 0) {
    MS_LOG(kWarn, "http") << "accept: " << uv_strerror(status);
    return;
  }
  if (self->connections_.size() >= self->options_.max_connections) {
    self->refuse();
    return;
  }
  auto conn = std::make_unique<HttpConnection>(*self, self->next_id_++);
  Status st = conn->start(self->loop_, listener);
  if (!st.isOk()) {
    MS_LOG(kWarn, "http") << st.message();
    conn->closed_ = true;
    return;  // its destructor closes the handle
  }
  ++self->stats_.connections_accepted;
  self->connections_.add(std::move(conn));
}

void HttpServer::refuse() {
  countRefusal(HttpRefusal::kTooManyConnections);
  UvHandle<uv_tcp_t> tcp;
  if (uv_tcp_init(loop_, tcp.get()) != 0) return;
  tcp.markInitialized(nullptr);
  if (uv_accept(listener_->stream(), tcp.stream()) != 0) return;
  ++stats_.responses[503];
  std::string answer = serializeHttpResponse(
      httpErrorResponse(503, rpc::kBusy, "too many HTTP connections (at most " + std::to_string(options_.max_connections) + ")"),
      /*close=*/true, /*head_only=*/false);
  uv_buf_t buf = uv_buf_init(answer.data(), static_cast<unsigned>(answer.size()));
  uv_try_write(tcp.stream(), &buf, 1);  // best effort; the close follows at once
  MS_LOG(kWarn, "http") << "refused a connection: too many connections";
}

void HttpServer::drop(HttpConnection& conn, const char* why) {
  if (conn.closed_) return;
  conn.closed_ = true;
  conn.alive_.reset();
  if (conn.timer_) conn.timer_->stop();  // not reset: drop() may run inside its callback
  if (why) MS_LOG(kInfo, "http") << "connection " << conn.id() << " (" << conn.remote_ << ") dropped: " << why;
  handler_.onClosed(conn);
  conn.tcp_.close();
  connections_.retire(conn);
}

}  // namespace meshslice
