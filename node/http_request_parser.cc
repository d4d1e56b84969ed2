#include "node/http_request_parser.h"

#include <algorithm>

namespace meshslice {
namespace {

// RFC 9110 §5.6.2 tchar.
bool isTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool isToken(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), isTokenChar);
}

// field-value characters: VCHAR, obs-text, SP, HTAB.
bool isFieldValueChar(char c) {
  auto u = static_cast<unsigned char>(c);
  return u == '\t' || u == ' ' || (u >= 0x21 && u != 0x7F);
}

char asciiLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (asciiLower(a[i]) != asciiLower(b[i])) return false;
  return true;
}

std::string_view trimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = asciiLower(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

bool percentDecode(std::string_view in, std::string& out) {
  out.clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return false;
    int hi = hexValue(in[i + 1]), lo = hexValue(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
}

const std::string* HttpRequest::header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers)
    if (name == lower_name) return &value;
  return nullptr;
}

std::vector<std::string_view> HttpRequest::headerItems(std::string_view lower_name) const {
  std::vector<std::string_view> items;
  for (const auto& [name, value] : headers) {
    if (name != lower_name) continue;
    std::string_view rest = value;
    while (!rest.empty()) {
      size_t comma = rest.find(',');
      items.push_back(trimOws(rest.substr(0, comma)));
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  return items;
}

bool HttpRequest::headerHasToken(std::string_view lower_name, std::string_view token) const {
  for (std::string_view item : headerItems(lower_name))
    if (equalsIgnoreCase(item, token)) return true;
  return false;
}

bool HttpRequest::keepAlive() const {
  if (minor_version == 0) return headerHasToken("connection", "keep-alive");
  return !headerHasToken("connection", "close");
}

int httpStatusFor(HttpParseError error) {
  switch (error) {
    case HttpParseError::kMalformed: return 400;
    case HttpParseError::kRequestLineTooLong: return 414;
    case HttpParseError::kHeadTooLarge: return 431;
    case HttpParseError::kBodyTooLarge: return 413;
    case HttpParseError::kTransferEncoding: return 501;
    case HttpParseError::kVersion: return 505;
    case HttpParseError::kCount: break;
  }
  return 400;
}

const char* httpParseErrorName(HttpParseError error) {
  switch (error) {
    case HttpParseError::kMalformed: return "malformed";
    case HttpParseError::kRequestLineTooLong: return "request-line-too-long";
    case HttpParseError::kHeadTooLarge: return "head-too-large";
    case HttpParseError::kBodyTooLarge: return "body-too-large";
    case HttpParseError::kTransferEncoding: return "transfer-encoding";
    case HttpParseError::kVersion: return "http-version";
    case HttpParseError::kCount: break;
  }
  return "malformed";
}

bool HttpRequestParser::requestLineByteOk(char c) {
  if (c == ' ') {
    if (part_length_ == 0 || ++line_spaces_ > 2) return false;
    part_length_ = 0;
    return true;
  }
  ++part_length_;
  if (line_spaces_ == 0) return isTokenChar(c) && part_length_ <= 16;  // the method
  if (line_spaces_ == 1) return static_cast<unsigned char>(c) > 0x20 && static_cast<unsigned char>(c) < 0x7F;
  constexpr std::string_view kVersionShape = "HTTP/9.9";
  if (part_length_ > kVersionShape.size()) return false;
  char want = kVersionShape[part_length_ - 1];
  return want == '9' ? (c >= '0' && c <= '9') : c == want;
}

void HttpRequestParser::reset() {
  state_ = State::kHead;
  head_.clear();
  in_request_line_ = true;
  line_spaces_ = 0;
  part_length_ = 0;
  body_length_ = 0;
  request_ = HttpRequest();
  message_.clear();
}

HttpRequestParser::Result HttpRequestParser::fail(HttpParseError error, std::string message) {
  state_ = State::kFailed;
  error_ = error;
  message_ = std::move(message);
  return Result::kError;
}

HttpRequestParser::Result HttpRequestParser::feed(std::string_view data, size_t* consumed) {
  *consumed = 0;
  if (state_ == State::kFailed) return Result::kError;
  if (state_ == State::kDone) return Result::kRequest;
  size_t used = 0;
  while (state_ == State::kHead && used < data.size()) {
    const char c = data[used++];
    head_.push_back(c);
    const size_t n = head_.size();
    if (c == '\n') {
      if (n < 2 || head_[n - 2] != '\r') {
        *consumed = used;
        return fail(HttpParseError::kMalformed, "lines must end in CRLF (bare LF)");
      }
      if (n == 2) {  // an empty line before the request line: ignored (RFC 9112 §2.2)
        head_.clear();
        continue;
      }
      in_request_line_ = false;
      if (n >= 4 && head_.compare(n - 4, 4, "\r\n\r\n") == 0) {
        head_.resize(n - 2);  // keep the last header line's CRLF
        Result r = parseHead();
        if (r == Result::kError) {
          *consumed = used;
          return r;
        }
      }
      continue;
    }
    if (n >= 2 && head_[n - 2] == '\r') {
      *consumed = used;
      return fail(HttpParseError::kMalformed, "bare CR in the request head");
    }
    if (in_request_line_ && c != '\r' && !requestLineByteOk(c)) {
      *consumed = used;
      return fail(HttpParseError::kMalformed, "request line is not 'METHOD TARGET HTTP/1.1'");
    }
    if (n > kMaxHttpRequestLine + 2 && head_.find('\n') == std::string::npos) {
      *consumed = used;
      return fail(HttpParseError::kRequestLineTooLong,
                  "request line longer than " + std::to_string(kMaxHttpRequestLine) + " bytes");
    }
    if (n > kMaxHttpHeadBytes) {
      *consumed = used;
      return fail(HttpParseError::kHeadTooLarge, "request head larger than " + std::to_string(kMaxHttpHeadBytes) + " bytes");
    }
  }
  if (state_ == State::kBody) {
    size_t take = std::min(body_length_ - request_.body.size(), data.size() - used);
    request_.body.append(data.substr(used, take));
    used += take;
    if (request_.body.size() == body_length_) state_ = State::kDone;
  }
  *consumed = used;
  return state_ == State::kDone ? Result::kRequest : Result::kNeedMore;
}

HttpRequestParser::Result HttpRequestParser::parseHead() {
  std::string_view head = head_;
  size_t eol = head.find("\r\n");
  std::string_view line = head.substr(0, eol);
  head.remove_prefix(eol + 2);
  // request-line = method SP request-target SP HTTP-version
  size_t sp1 = line.find(' ');
  size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
    return fail(HttpParseError::kMalformed, "request line is not 'METHOD TARGET HTTP/1.1'");
  std::string_view method = line.substr(0, sp1), target = line.substr(sp1 + 1, sp2 - sp1 - 1),
                   version = line.substr(sp2 + 1);
  if (!isToken(method) || method.size() > 16) return fail(HttpParseError::kMalformed, "bad method");
  if (version.size() == 8 && version.substr(0, 5) == "HTTP/" && version[6] == '.' &&
      version[5] >= '0' && version[5] <= '9' && version[7] >= '0' && version[7] <= '9') {
    if (version[5] != '1' || (version[7] != '0' && version[7] != '1'))
      return fail(HttpParseError::kVersion, "only HTTP/1.0 and HTTP/1.1 are supported");
  } else {
    return fail(HttpParseError::kMalformed, "bad HTTP version");
  }
  if (target.empty() || target[0] != '/') return fail(HttpParseError::kMalformed, "request target must be a path (origin-form)");
  for (char c : target)
    if (static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) > 0x7E || c == '#')
      return fail(HttpParseError::kMalformed, "bad character in the request target");
  request_.method = std::string(method);
  request_.target = std::string(target);
  request_.minor_version = version[7] - '0';
  size_t q = target.find('?');
  std::string_view path = target.substr(0, q);
  if (q != std::string_view::npos) request_.query = std::string(target.substr(q + 1));
  path.remove_prefix(1);
  while (!path.empty()) {
    size_t slash = path.find('/');
    std::string segment;
    if (!percentDecode(path.substr(0, slash), segment)) return fail(HttpParseError::kMalformed, "bad percent-encoding in the path");
    request_.path.push_back(std::move(segment));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
    if (path.empty()) request_.path.emplace_back();  // a trailing slash: an empty last segment
  }
  while (!head.empty()) {
    eol = head.find("\r\n");
    Result r = parseHeaderLine(head.substr(0, eol));
    if (r == Result::kError) return r;
    head.remove_prefix(eol + 2);
  }
  size_t hosts = static_cast<size_t>(std::count_if(request_.headers.begin(), request_.headers.end(),
                                                   [](const auto& h) { return h.first == "host"; }));
  if (request_.minor_version == 1 && hosts != 1) return fail(HttpParseError::kMalformed, "HTTP/1.1 requests need exactly one Host header");
  if (hosts > 1) return fail(HttpParseError::kMalformed, "several Host headers");
  if (request_.header("transfer-encoding"))
    return fail(HttpParseError::kTransferEncoding, "Transfer-Encoding is not supported: send the body with a Content-Length");
  body_length_ = 0;
  bool have_length = false;
  for (const auto& [name, value] : request_.headers) {
    if (name != "content-length") continue;
    if (have_length) return fail(HttpParseError::kMalformed, "several Content-Length headers");
    have_length = true;
    if (value.empty() || value.size() > 18 || !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return fail(HttpParseError::kMalformed, "bad Content-Length");
    uint64_t length = std::stoull(value);
    if (length > max_body_)
      return fail(HttpParseError::kBodyTooLarge, "body of " + value + " bytes is over the " + std::to_string(max_body_) + " byte limit");
    body_length_ = static_cast<size_t>(length);
  }
  head_.clear();
  state_ = body_length_ == 0 ? State::kDone : State::kBody;
  return state_ == State::kDone ? Result::kRequest : Result::kNeedMore;
}

HttpRequestParser::Result HttpRequestParser::parseHeaderLine(std::string_view line) {
  if (line.empty()) return fail(HttpParseError::kMalformed, "empty header line");
  if (line[0] == ' ' || line[0] == '\t') return fail(HttpParseError::kMalformed, "folded header lines (obs-fold) are not accepted");
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return fail(HttpParseError::kMalformed, "header line without ':'");
  std::string_view name = line.substr(0, colon);
  if (!isToken(name)) return fail(HttpParseError::kMalformed, "bad header name");
  std::string_view value = trimOws(line.substr(colon + 1));
  if (!std::all_of(value.begin(), value.end(), isFieldValueChar))
    return fail(HttpParseError::kMalformed, "control character in a header value");
  if (request_.headers.size() >= kMaxHttpHeaderCount)
    return fail(HttpParseError::kHeadTooLarge, "more than " + std::to_string(kMaxHttpHeaderCount) + " header fields");
  std::string lower(name);
  for (char& c : lower) c = asciiLower(c);
  request_.headers.emplace_back(std::move(lower), std::string(value));
  return Result::kNeedMore;
}

}  // namespace meshslice
