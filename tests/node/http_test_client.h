// A blocking HTTP/1.1 + WebSocket client for tests of the daemon's web API: exact bytes out,
// parsed responses and frames in, every wait bounded by a deadline. Loopback only.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <string_view>
#include <string>
#include <vector>

namespace meshslice::test {

// A client's WebSocket frame (RFC 6455 §5.2): first byte `b0` (FIN | RSV | opcode), the
// minimal length form, masked with `mask`. Written here independently of the server's codec.
inline std::string maskedClientFrame(uint8_t b0, std::string_view payload, uint32_t mask) {
  std::string f;
  f.push_back(static_cast<char>(b0));
  const size_t n = payload.size();
  if (n < 126) {
    f.push_back(static_cast<char>(0x80 | n));
  } else if (n <= 0xFFFF) {
    f.push_back(static_cast<char>(0x80 | 126));
    f.push_back(static_cast<char>(n >> 8));
    f.push_back(static_cast<char>(n & 0xFF));
  } else {
    f.push_back(static_cast<char>(0x80 | 127));
    for (int i = 7; i >= 0; --i) f.push_back(static_cast<char>((uint64_t(n) >> (8 * i)) & 0xFF));
  }
  const char m[4] = {char(mask >> 24), char(mask >> 16), char(mask >> 8), char(mask)};
  f.append(m, 4);
  for (size_t i = 0; i < n; ++i) f.push_back(static_cast<char>(payload[i] ^ m[i % 4]));
  return f;
}

class HttpTestClient {
 public:
  struct Response {
    int status = 0;  // 0: no complete response (closed or timed out)
    std::map<std::string, std::string> headers;  // names lower-case
    std::string body;
    std::string header(const std::string& name) const {
      auto it = headers.find(name);
      return it == headers.end() ? "" : it->second;
    }
  };
  struct Frame {
    int opcode = -1;  // -1: none (closed or timed out)
    std::string payload;
  };

  explicit HttpTestClient(uint16_t port, int rcvbuf = 0) : port_(port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (rcvbuf > 0) ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~HttpTestClient() { ::close(fd_); }
  HttpTestClient(const HttpTestClient&) = delete;
  HttpTestClient& operator=(const HttpTestClient&) = delete;

  bool connected() const { return connected_; }
  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }

  bool send(std::string_view data) {
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::send(fd_, data.data() + done, data.size() - done, MSG_NOSIGNAL);
      if (n <= 0) return false;
      done += static_cast<size_t>(n);
    }
    return true;
  }

  // A request with Host (and, unless `headers` has one, no Authorization).
  Response request(const std::string& method, const std::string& target, const std::string& body = "",
                   const std::vector<std::string>& headers = {}, int timeout_ms = 10000) {
    std::string text = method + " " + target + " HTTP/1.1\r\nHost: " + host() + "\r\n";
    for (const auto& h : headers) text += h + "\r\n";
    if (!body.empty() || method == "PUT" || method == "POST") text += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    text += "\r\n" + body;
    send(text);
    return read(timeout_ms, method == "HEAD");
  }

  // One response (body by Content-Length).
  Response read(int timeout_ms = 10000, bool head = false) {
    Response r;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos)
      if (!fill(deadline)) return r;
    std::string head_text = buf_.substr(0, end);
    buf_.erase(0, end + 4);
    size_t eol = head_text.find("\r\n");
    std::string status_line = head_text.substr(0, eol);
    if (status_line.size() < 12) return r;
    int status = std::stoi(status_line.substr(9, 3));
    size_t pos = eol == std::string::npos ? head_text.size() : eol + 2;
    while (pos < head_text.size()) {
      size_t next = head_text.find("\r\n", pos);
      if (next == std::string::npos) next = head_text.size();
      std::string line = head_text.substr(pos, next - pos);
      size_t colon = line.find(':');
      if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        size_t v = line.find_first_not_of(' ', colon + 1);
        r.headers[name] = v == std::string::npos ? "" : line.substr(v);
      }
      pos = next + 2;
    }
    size_t length = r.headers.count("content-length") && !head && status >= 200 ? std::stoul(r.headers["content-length"]) : 0;
    while (buf_.size() < length)
      if (!fill(deadline)) return r;
    r.body = buf_.substr(0, length);
    buf_.erase(0, length);
    r.status = status;
    return r;
  }

  // Whether the server closes the connection (EOF or reset) within timeout_ms; discards data.
  bool closedByPeer(int timeout_ms = 10000) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
      int left = remaining(deadline);
      if (left <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, left) <= 0) continue;
      char b[65536];
      ssize_t n = ::recv(fd_, b, sizeof b, 0);
      if (n <= 0) return true;
    }
  }

  // The WebSocket opening handshake; a 101 response on success.
  Response upgrade(const std::string& target, const std::vector<std::string>& headers) {
    std::vector<std::string> all = {"Upgrade: websocket", "Connection: Upgrade",
                                    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13"};
    all.insert(all.end(), headers.begin(), headers.end());
    return request("GET", target, "", all);
  }
  // Sends one masked client frame with first byte `b0` (FIN | opcode).
  bool sendFrame(uint8_t b0, std::string_view payload) { return send(maskedClientFrame(b0, payload, 0x12345678)); }
  // The next server frame (server frames are never masked).
  Frame readFrame(int timeout_ms = 10000) {
    Frame fr;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (buf_.size() < 2)
      if (!fill(deadline)) return fr;
    const auto b1 = static_cast<uint8_t>(buf_[1]) & 0x7F;
    size_t header = 2 + (b1 == 126 ? 2 : b1 == 127 ? 8 : 0);
    while (buf_.size() < header)
      if (!fill(deadline)) return fr;
    uint64_t len = b1;
    if (b1 >= 126) {
      len = 0;
      for (size_t i = 2; i < header; ++i) len = len << 8 | static_cast<uint8_t>(buf_[i]);
    }
    while (buf_.size() < header + len)
      if (!fill(deadline)) return fr;
    fr.opcode = static_cast<uint8_t>(buf_[0]) & 0x0F;
    fr.payload = buf_.substr(header, len);
    buf_.erase(0, header + len);
    return fr;
  }

 private:
  static int remaining(std::chrono::steady_clock::time_point deadline) {
    return static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count());
  }
  bool fill(std::chrono::steady_clock::time_point deadline) {
    int left = remaining(deadline);
    if (left <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, left) <= 0) return false;
    char b[65536];
    ssize_t n = ::recv(fd_, b, sizeof b, 0);
    if (n <= 0) return false;
    buf_.append(b, static_cast<size_t>(n));
    return true;
  }

  uint16_t port_;
  int fd_ = -1;
  bool connected_ = false;
  std::string buf_;
};

}  // namespace meshslice::test
