// Feeds arbitrary bytes, split at fuzzer-chosen points, to the HTTP/1.1 request parser of the
// daemon's web API, parsing request after request as a keep-alive connection would. Checks: no
// crash; each feed consumes at most what it was given and all of it unless a request ended
// or the input was refused; a parsed request keeps every limit (head, header count, body);
// the parser never holds more than the head limit plus the body limit.
#include <cstdlib>

#include "node/http_request_parser.h"

using namespace meshslice;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const size_t max_body = 1 + data[0] * 64;
  std::string_view input(reinterpret_cast<const char*>(data + 2), size - 2);
  HttpRequestParser parser(max_body);
  size_t fed = 0;
  for (size_t step = 1 + data[1] % 31; fed < input.size(); step = step * 7 % 97 + 1) {
    std::string_view chunk = input.substr(fed, std::min(step, input.size() - fed));
    while (!chunk.empty()) {
      size_t used = 0;
      HttpRequestParser::Result r = parser.feed(chunk, &used);
      if (used > chunk.size()) std::abort();
      chunk.remove_prefix(used);
      fed += used;
      if (r == HttpRequestParser::Result::kError) {
        if (httpStatusFor(parser.error()) < 400) std::abort();
        return 0;
      }
      if (r == HttpRequestParser::Result::kNeedMore) {
        if (!chunk.empty()) std::abort();
        break;
      }
      const HttpRequest& req = parser.request();
      if (req.body.size() > max_body || req.headers.size() > kMaxHttpHeaderCount) std::abort();
      if (req.target.empty() || req.target[0] != '/' || req.method.empty()) std::abort();
      if (req.target.size() > kMaxHttpRequestLine) std::abort();
      for (const auto& [name, value] : req.headers)
        if (name.empty() || name.size() + value.size() > kMaxHttpHeadBytes) std::abort();
      (void)req.keepAlive();
      parser.reset();
    }
  }
  return 0;
}
