// A strict, bounded HTTP/1.1 request parser (RFC 9112) for the daemon's local web API
// (docs/HTTP.md). It accepts what browsers, curl and fetch() send and refuses everything else
// with the status code to answer:
//   400 malformed: request line or header syntax, bare LF or CR, obs-fold, control characters,
//       a target that is not origin-form ("/path?query"), bad percent-encoding, no or several
//       Host headers (HTTP/1.1), a bad or repeated Content-Length
//   414 request line over kMaxHttpRequestLine bytes
//   431 request head over kMaxHttpHeadBytes bytes or kMaxHttpHeaderCount header fields
//   413 Content-Length over the body limit
//   501 any Transfer-Encoding (bodies must have a Content-Length)
//   505 a version other than HTTP/1.0 and HTTP/1.1
// Limits are checked as bytes arrive, so a parser holds at most the head limit plus the body
// limit. Pure; single-threaded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace meshslice {

inline constexpr size_t kMaxHttpRequestLine = 8 * 1024;
inline constexpr size_t kMaxHttpHeadBytes = 16 * 1024;  // request line + header fields + CRLFs
inline constexpr size_t kMaxHttpHeaderCount = 64;
// The largest request body: a 1 MiB slice value is up to 1 MiB of JSON, a 1.06 MiB message
// payload up to 1.42 MiB of base64.
inline constexpr size_t kMaxHttpBody = 2 * 1024 * 1024;

struct HttpRequest {
  std::string method;               // as sent (methods are case-sensitive)
  std::string target;               // the request-target as sent
  std::vector<std::string> path;    // percent-decoded segments: "/a/b%2Fc" -> {"a", "b/c"}, "/" -> {}
  std::string query;                // after '?', not decoded
  int minor_version = 1;            // HTTP/1.<minor_version>
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-case, values trimmed
  std::string body;

  // The first value of header `lower_name`, or nullptr.
  const std::string* header(std::string_view lower_name) const;
  // The items of a comma-separated header (Connection, Upgrade, Sec-WebSocket-Protocol), over
  // every field of that name, trimmed; views into this request.
  std::vector<std::string_view> headerItems(std::string_view lower_name) const;
  // Whether such a header lists `token` (ASCII case-insensitive).
  bool headerHasToken(std::string_view lower_name, std::string_view token) const;
  bool keepAlive() const;
};

enum class HttpParseError : uint8_t {
  kMalformed,
  kRequestLineTooLong,
  kHeadTooLarge,
  kBodyTooLarge,
  kTransferEncoding,
  kVersion,
  kCount,
};
inline constexpr size_t kHttpParseErrorCount = static_cast<size_t>(HttpParseError::kCount);
int httpStatusFor(HttpParseError error);
// "malformed", "request-line-too-long", ... for counters.
const char* httpParseErrorName(HttpParseError error);

class HttpRequestParser {
 public:
  explicit HttpRequestParser(size_t max_body = kMaxHttpBody) : max_body_(max_body) {}

  enum class Result { kNeedMore, kRequest, kError };
  // Consumes bytes of `data` and reports how many in *consumed: all of them (kNeedMore), those
  // up to the end of one complete request (kRequest: see request(), then reset() before the
  // next one), or some (kError: see error() and message(); the parser is spent).
  Result feed(std::string_view data, size_t* consumed);
  HttpRequest& request() { return request_; }
  HttpParseError error() const { return error_; }
  const std::string& message() const { return message_; }
  // Whether bytes of a request (other than the empty lines allowed before one) have arrived.
  bool started() const { return !head_.empty() || state_ != State::kHead; }
  void reset();

 private:
  enum class State { kHead, kBody, kDone, kFailed };
  Result fail(HttpParseError error, std::string message);
  // Parses head_ (complete, ending in the blank line) into request_.
  Result parseHead();
  Result parseHeaderLine(std::string_view line);
  // Checks one more byte of the request line as it arrives, so that bytes that cannot start
  // an HTTP request (a TLS ClientHello, binary junk) are refused at once, not at a timeout.
  bool requestLineByteOk(char c);

  size_t max_body_;
  State state_ = State::kHead;
  std::string head_;
  bool in_request_line_ = true;
  int line_spaces_ = 0;      // spaces seen in the request line so far
  size_t part_length_ = 0;   // bytes of the request line's current part
  size_t body_length_ = 0;
  HttpRequest request_;
  HttpParseError error_ = HttpParseError::kMalformed;
  std::string message_;
};

// Percent-decodes one path segment; false on a bad escape.
bool percentDecode(std::string_view in, std::string& out);

}  // namespace meshslice
