#include "node/http_api.h"

#include <algorithm>

#include "base/log.h"
#include "node/json_util.h"
#include "node/web_assets.h"
#include "transport/address.h"

namespace meshslice {
namespace {

enum class Body { kNone, kParams, kValue };

// One REST route: path segments ("*" matches any one segment, named in `captures`), the HTTP
// method, and the control method it calls ("" for the event stream and /metrics).
struct Pattern {
  std::vector<std::string_view> parts;
  std::string_view http_method;
  std::string_view control;
  bool changes_state;
  Body body;
  std::vector<std::string_view> captures;
};

const std::vector<Pattern>& routes() {
  static const std::vector<Pattern> kRoutes = {
      {{"api", "status"}, "GET", "status", false, Body::kNone, {}},
      {{"api", "peers"}, "GET", "peers", false, Body::kNone, {}},
      {{"api", "stores"}, "GET", "stores", false, Body::kNone, {}},
      {{"api", "stores", "*"}, "GET", "get", false, Body::kNone, {"store"}},
      {{"api", "stores", "*"}, "PUT", "set", true, Body::kValue, {"store"}},
      {{"api", "stores", "*", "*"}, "GET", "get", false, Body::kNone, {"store", "device"}},
      {{"api", "publish"}, "POST", "publish", true, Body::kParams, {}},
      {{"api", "down"}, "POST", "down", true, Body::kNone, {}},
      {{"api", "mesh", "allow-list"}, "GET", "mesh.allow_list", false, Body::kNone, {}},
      {{"api", "mesh", "allow"}, "POST", "mesh.allow", true, Body::kParams, {}},
      {{"api", "mesh", "revoke"}, "POST", "mesh.revoke", true, Body::kParams, {}},
      {{"api", "events"}, "GET", "", false, Body::kNone, {}},
      {{"metrics"}, "GET", "", false, Body::kNone, {}},
  };
  return kRoutes;
}

bool pathMatches(const Pattern& p, const std::vector<std::string>& path) {
  if (p.parts.size() != path.size()) return false;
  for (size_t i = 0; i < path.size(); ++i)
    if (p.parts[i] == "*" ? path[i].empty() : p.parts[i] != path[i]) return false;
  return true;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool isLoopbackHost(std::string_view host) {
  if (host == "localhost" || host == "::1") return true;
  sockaddr_in addr{};
  return host.starts_with("127.") && uv_ip4_addr(std::string(host).c_str(), 0, &addr) == 0;
}

int statusForRpcCode(int code) {
  switch (code) {
    case rpc::kParseError:
    case rpc::kInvalidRequest:
    case rpc::kInvalidParams: return 400;
    case rpc::kMethodNotFound:
    case rpc::kNotFound: return 404;
    case rpc::kTooLarge: return 413;
    case rpc::kUnavailable:
    case rpc::kBusy: return 503;
    default: return 500;
  }
}

HttpResponse jsonResponse(int status, const Json& body) {
  HttpResponse r;
  r.status = status;
  r.content_type = "application/json";
  r.body = dumpJson(body);
  return r;
}

void addCors(HttpResponse& r, const std::string* cors_origin) {
  if (!cors_origin) return;
  r.with("Access-Control-Allow-Origin", *cors_origin).with("Vary", "Origin");
}

}  // namespace

struct HttpApi::Route {
  const Pattern* pattern = nullptr;
  Json params = Json::object();
};

HttpApi::HttpApi(ControlService& service, HttpTokens tokens, HttpApiOptions options, MetricsFn metrics)
    : service_(service), tokens_(std::move(tokens)), options_(std::move(options)), metrics_(std::move(metrics)) {
  for (auto& o : options_.allowed_origins) o = lower(o);
}

void HttpApi::attach(HttpServer& server, const std::string& bound_address) {
  server_ = &server;
  if (auto hp = splitHostPort(bound_address)) {
    loopback_only_ = isLoopbackHost(hp->host);
    port_ = hp->port;
  }
}

void HttpApi::refuse(HttpConnection& conn, HttpRefusal why, int status, int rpc_code, std::string_view message,
                     HttpResponse extra) {
  if (server_) server_->countRefusal(why);
  HttpResponse r = httpErrorResponse(status, rpc_code, message);
  for (auto& h : extra.headers) r.headers.push_back(std::move(h));
  conn.respond(std::move(r));
}

bool HttpApi::hostAllowed(const HttpRequest& request) const {
  if (!loopback_only_) return true;
  const std::string* host = request.header("host");
  if (!host) return true;  // HTTP/1.0 without Host: no browser sends that
  std::string text = lower(*host);
  if (text.find(':') == std::string::npos || text.back() == ']') text += ":80";
  auto hp = splitHostPort(text);
  return hp && hp->port == port_ && isLoopbackHost(hp->host);
}

bool HttpApi::originAllowed(const HttpRequest& request, const std::string& origin) const {
  std::string o = lower(origin);
  const std::string* host = request.header("host");
  if (host && o == "http://" + lower(*host)) return true;
  return std::find(options_.allowed_origins.begin(), options_.allowed_origins.end(), o) != options_.allowed_origins.end();
}

HttpAccess HttpApi::accessOf(const HttpRequest& request) const {
  if (const std::string* auth = request.header("authorization")) {
    std::string_view a = *auth;
    if (a.size() > 7 && lower(a.substr(0, 7)) == "bearer ") return tokens_.check(a.substr(7));
    return HttpAccess::kNone;
  }
  for (std::string_view item : request.headerItems("sec-websocket-protocol"))
    if (item.starts_with(kWsTokenProtocolPrefix)) return tokens_.check(item.substr(kWsTokenProtocolPrefix.size()));
  return HttpAccess::kNone;
}

void HttpApi::onRequest(HttpConnection& conn, HttpRequest& request) {
  if (!hostAllowed(request)) {
    refuse(conn, HttpRefusal::kHost, 421, rpc::kForbidden, "Host is not this server (use http://127.0.0.1:" + std::to_string(port_) + ")");
    return;
  }
  const std::string* origin = request.header("origin");
  if (origin && !originAllowed(request, *origin)) {
    refuse(conn, HttpRefusal::kOrigin, 403, rpc::kForbidden, "Origin " + *origin + " is not allowed (see --http-origin)");
    return;
  }
  if (request.method == "OPTIONS") {
    answerPreflight(conn, request, origin);
    return;
  }
  const bool get = request.method == "GET" || request.method == "HEAD";
  std::string_view url_path = std::string_view(request.target).substr(0, request.target.find('?'));
  if (get) {
    if (const WebAsset* asset = findWebAsset(url_path)) {
      HttpResponse r;
      r.content_type = std::string(asset->content_type);
      r.body = std::string(asset->data);
      r.with("Cache-Control", "no-cache")
          .with("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
          .with("X-Frame-Options", "DENY")
          .with("Referrer-Policy", "no-referrer");
      conn.respond(std::move(r));
      return;
    }
  }
  HttpAccess access = accessOf(request);
  if (access == HttpAccess::kNone) {
    bool given = request.header("authorization") != nullptr;
    refuse(conn, HttpRefusal::kUnauthorized, 401, rpc::kUnauthorized,
           given ? "unknown token" : "a bearer token is required (meshslice http token)",
           HttpResponse().with("WWW-Authenticate", "Bearer realm=\"meshslice\""));
    return;
  }
  serveApi(conn, request, access, origin);
}

void HttpApi::answerPreflight(HttpConnection& conn, const HttpRequest& request, const std::string* origin) {
  HttpResponse r;
  r.status = 204;
  if (origin && request.header("access-control-request-method")) {
    addCors(r, origin);
    r.with("Access-Control-Allow-Methods", "GET, HEAD, PUT, POST")
        .with("Access-Control-Allow-Headers", "Authorization, Content-Type")
        .with("Access-Control-Max-Age", "600");
  } else {
    r.with("Allow", "GET, HEAD, PUT, POST, OPTIONS");
  }
  conn.respond(std::move(r));
}

void HttpApi::serveApi(HttpConnection& conn, HttpRequest& request, HttpAccess access, const std::string* cors_origin) {
  const std::string method = request.method == "HEAD" ? "GET" : request.method;
  Route route;
  std::string allow;
  for (const Pattern& p : routes()) {
    if (!pathMatches(p, request.path)) continue;
    if (p.http_method != method) {
      if (allow.find(p.http_method) == std::string::npos) allow += (allow.empty() ? "" : ", ") + std::string(p.http_method);
      continue;
    }
    route.pattern = &p;
    size_t capture = 0;
    for (size_t i = 0; i < p.parts.size(); ++i)
      if (p.parts[i] == "*") route.params[std::string(p.captures[capture++])] = request.path[i];
    break;
  }
  if (!route.pattern) {
    if (allow.empty()) {
      refuse(conn, HttpRefusal::kNotFound, 404, rpc::kMethodNotFound, "no such path: " + request.target);
    } else {
      refuse(conn, HttpRefusal::kMethod, 405, rpc::kMethodNotFound, request.method + " is not allowed here",
             HttpResponse().with("Allow", allow));
    }
    return;
  }
  if (route.pattern->changes_state && access != HttpAccess::kFull) {
    refuse(conn, HttpRefusal::kReadOnly, 403, rpc::kForbidden,
           "this token is read-only: " + std::string(route.pattern->control) + " changes state");
    return;
  }
  if (request.path[0] == "metrics") {
    HttpResponse r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = metrics_ ? metrics_() : std::string();
    r.with("Cache-Control", "no-store");
    addCors(r, cors_origin);
    conn.respond(std::move(r));
    return;
  }
  if (route.pattern->control.empty()) {
    openStream(conn, request, cors_origin);
    return;
  }
  callMethod(conn, route, request, cors_origin);
}

void HttpApi::openStream(HttpConnection& conn, const HttpRequest& request, const std::string*) {
  const bool v1 = request.headerHasToken("sec-websocket-protocol", kWsProtocol);
  if (conn.acceptWebSocket(request, v1 ? kWsProtocol : std::string_view())) streams_.insert(&conn);
}

void HttpApi::callMethod(HttpConnection& conn, const Route& route, HttpRequest& request, const std::string* cors_origin) {
  Json params = route.params;
  if (route.pattern->body != Body::kNone && !request.body.empty()) {
    const bool value = route.pattern->body == Body::kValue;
    auto body = parseJson(request.body, value ? kMaxValueDepth : kMaxJsonDepth);
    if (!body) {
      refuse(conn, HttpRefusal::kBadJson, 400, rpc::kParseError, "the body is not JSON: " + body.status().message());
      return;
    }
    if (value) {
      params["value"] = std::move(body.value());
    } else if (!body->is_object()) {
      refuse(conn, HttpRefusal::kBadJson, 400, rpc::kInvalidParams, "the body must be a JSON object of parameters");
      return;
    } else {
      for (auto& [key, v] : body->items())
        if (!params.contains(key)) params[key] = v;
    }
  } else if (route.pattern->body == Body::kValue) {
    refuse(conn, HttpRefusal::kBadJson, 400, rpc::kInvalidParams, "the body must be the JSON value to set");
    return;
  }
  std::function<void()> after_reply;
  Result<Json> result = service_.call(route.pattern->control, params, &after_reply);
  HttpResponse r = result ? jsonResponse(200, *result)
                          : httpErrorResponse(statusForRpcCode(rpc::codeFor(result.status())), rpc::codeFor(result.status()),
                                              result.status().message());
  r.with("Cache-Control", "no-store");
  addCors(r, cors_origin);
  conn.respond(std::move(r), std::move(after_reply));
}

void HttpApi::onEvent(const Json& event) {
  if (streams_.empty()) return;
  const std::string text = dumpJson(event);
  // sendText() may drop a slow client, which erases it from streams_: iterate over a copy.
  std::vector<HttpConnection*> targets(streams_.begin(), streams_.end());
  for (HttpConnection* conn : targets) conn->sendText(text);
}

}  // namespace meshslice
