// HttpApi: what the daemon's HTTP server answers (docs/HTTP.md). REST/JSON for the control
// methods (the ControlService's own implementations, same results as docs/CONTROL.md), a
// WebSocket stream of the `watch` events at /api/events, /metrics in the Prometheus text
// format, and the dashboard's files at /.
//
// Rules, in the order they are checked:
// - Host: when the server listens on a loopback address, the Host header must name a loopback
//   host (localhost, 127.x.x.x, [::1]) with the server's port, else 421: a page from another
//   site that rebinds its DNS name to 127.0.0.1 gets nothing.
// - Origin: a request with an Origin header (browsers send one on cross-origin requests, on
//   same-origin POST/PUT and on every WebSocket handshake) is refused (403) unless the origin
//   is the server's own (http://<Host>) or listed in allowed_origins (--http-origin). Listed
//   origins get CORS headers and preflight (OPTIONS) answers.
// - Files of the dashboard need no token (they hold none); everything else needs a bearer
//   token (401 without a valid one): "Authorization: Bearer <token>", or for WebSockets,
//   whose browser API cannot set headers, the subprotocol "meshslice.token.<token>" offered
//   next to "meshslice.v1".
// - A read-only token gets 403 for methods that change state: set, publish, down, mesh.allow,
//   mesh.revoke.
// Each refusal is counted (HttpServer::stats(), /metrics) and changes nothing.
//
// Threading and lifetime: loop thread only. `service` must outlive the API; attach() the
// server before it listens.
#pragma once

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "node/control_service.h"
#include "node/http_server.h"
#include "node/http_tokens.h"

namespace meshslice {

inline constexpr std::string_view kWsProtocol = "meshslice.v1";
inline constexpr std::string_view kWsTokenProtocolPrefix = "meshslice.token.";

struct HttpApiOptions {
  std::vector<std::string> allowed_origins;  // e.g. "http://localhost:5173"
};

class HttpApi final : public HttpHandler {
 public:
  using MetricsFn = std::function<std::string()>;
  HttpApi(ControlService& service, HttpTokens tokens, HttpApiOptions options, MetricsFn metrics);

  // The server answering for this API (refusals are counted there) and the address it bound
  // (for the Host rule).
  void attach(HttpServer& server, const std::string& bound_address);
  // A `watch` event: sent to every open event stream as one text message.
  void onEvent(const Json& event);
  size_t streamCount() const { return streams_.size(); }

  void onRequest(HttpConnection& conn, HttpRequest& request) override;
  void onClosed(HttpConnection& conn) override { streams_.erase(&conn); }

 private:
  struct Route;
  void refuse(HttpConnection& conn, HttpRefusal why, int status, int rpc_code, std::string_view message,
              HttpResponse extra = {});
  bool hostAllowed(const HttpRequest& request) const;
  bool originAllowed(const HttpRequest& request, const std::string& origin) const;
  void answerPreflight(HttpConnection& conn, const HttpRequest& request, const std::string* origin);
  HttpAccess accessOf(const HttpRequest& request) const;
  void serveApi(HttpConnection& conn, HttpRequest& request, HttpAccess access, const std::string* cors_origin);
  void openStream(HttpConnection& conn, const HttpRequest& request, const std::string* cors_origin);
  void callMethod(HttpConnection& conn, const Route& route, HttpRequest& request, const std::string* cors_origin);

  ControlService& service_;
  HttpTokens tokens_;
  HttpApiOptions options_;
  MetricsFn metrics_;
  HttpServer* server_ = nullptr;
  bool loopback_only_ = false;
  uint16_t port_ = 0;
  std::set<HttpConnection*> streams_;
};

}  // namespace meshslice
