#include "node/http_response.h"

#include "node/json_util.h"

namespace meshslice {

const char* httpReasonPhrase(int status) {
  switch (status) {
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 421: return "Misdirected Request";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

std::string serializeHttpResponse(const HttpResponse& response, bool close, bool head_only) {
  std::string out = "HTTP/1.1 " + std::to_string(response.status) + " " + httpReasonPhrase(response.status) + "\r\n";
  auto header = [&out](std::string_view name, std::string_view value) {
    out.append(name);
    out.append(": ");
    out.append(value);
    out.append("\r\n");
  };
  if (!response.content_type.empty()) header("Content-Type", response.content_type);
  // 1xx and 204 responses carry no Content-Length (RFC 9110 §8.6).
  if (response.status >= 200 && response.status != 204) header("Content-Length", std::to_string(response.body.size()));
  header("X-Content-Type-Options", "nosniff");
  if (close) header("Connection", "close");
  for (const auto& [name, value] : response.headers) header(name, value);
  out.append("\r\n");
  if (!head_only) out.append(response.body);
  return out;
}

HttpResponse httpErrorResponse(int status, int rpc_code, std::string_view message) {
  HttpResponse r;
  r.status = status;
  r.content_type = "application/json";
  r.body = dumpJson(Json{{"error", {{"code", rpc_code}, {"message", std::string(message)}}}});
  return r;
}

int rpcCodeForHttpStatus(int status) {
  switch (status) {
    case 413: case 414: case 431: return rpc::kTooLarge;
    case 503: return rpc::kBusy;
    default: return rpc::kInvalidRequest;
  }
}

}  // namespace meshslice
