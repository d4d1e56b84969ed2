// An HTTP/1.1 response of the daemon's web API and its wire form. Pure; any thread.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace meshslice {

struct HttpResponse {
  int status = 200;
  std::string content_type;  // empty: no Content-Type header
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers, sent as given

  HttpResponse& with(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
};

// "OK", "Not Found", ...; "Unknown" for codes the server never sends.
const char* httpReasonPhrase(int status);
// Status line, headers (Content-Length always; Connection: close when `close`), blank line and
// the body (left out for HEAD requests, whose Content-Length still tells the body's size).
std::string serializeHttpResponse(const HttpResponse& response, bool close, bool head_only);

// An error answer: `status` with the JSON body {"error": {"code": rpc_code, "message": ...}}
// (docs/HTTP.md, "Errors"; rpc_code is a JSON-RPC code of docs/CONTROL.md).
HttpResponse httpErrorResponse(int status, int rpc_code, std::string_view message);
// The JSON-RPC code of a refusal by the server itself (413/414/431: too large, 503: busy,
// other statuses: invalid request).
int rpcCodeForHttpStatus(int status);

}  // namespace meshslice
