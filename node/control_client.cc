#include "node/control_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace meshslice {

Result<ControlClient> ControlClient::connect(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) return invalidArgument("control socket path too long: " + path);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return ioError(std::string("socket: ") + std::strerror(errno));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    int err = errno;
    ::close(fd);
    if (err == ENOENT || err == ECONNREFUSED || err == ENOTDIR)
      return Status(Code::kNotFound, "no meshslice daemon is running (no control socket at " + path + ")");
    if (err == EACCES || err == EPERM)
      return Status(Code::kPermissionDenied, "cannot open control socket " + path + ": permission denied");
    return ioError("connect " + path + ": " + std::strerror(err));
  }
  return ControlClient(fd);
}

ControlClient::ControlClient(ControlClient&& other) noexcept
    : fd_(other.fd_), next_id_(other.next_id_), lines_(std::move(other.lines_)),
      ready_(std::move(other.ready_)), notifications_(std::move(other.notifications_)) {
  other.fd_ = -1;
}

ControlClient::~ControlClient() {
  if (fd_ >= 0) ::close(fd_);
}

Status ControlClient::writeAll(std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status(Code::kClosed, std::string("daemon closed the connection: ") + std::strerror(errno));
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::ok();
}

Result<Json> ControlClient::readMessage(int timeout_ms) {
  using Clock = std::chrono::steady_clock;
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (ready_.empty()) {
    int wait = -1;
    if (timeout_ms >= 0) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) return Status(Code::kTimeout, "no answer from the daemon in time");
      wait = static_cast<int>(left);
    }
    pollfd p{fd_, POLLIN, 0};
    int rc = ::poll(&p, 1, wait);
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) return ioError(std::string("poll: ") + std::strerror(errno));
    if (rc == 0) continue;
    char buf[64 * 1024];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Status(Code::kClosed, "the daemon closed the connection");
    Status st = lines_.feed(std::string_view(buf, static_cast<size_t>(n)), [this](std::string_view line) {
      if (!line.empty()) ready_.emplace_back(line);
      return true;
    });
    if (!st.isOk()) return st;
  }
  std::string line = std::move(ready_.front());
  ready_.pop_front();
  return parseJson(line, kMaxReplyDepth);  // replies nest values deeper than requests do
}

Result<Json> ControlClient::call(std::string_view method, Json params, int timeout_ms) {
  int64_t id = next_id_++;
  Json request{{"jsonrpc", "2.0"}, {"id", id}, {"method", std::string(method)}};
  if (!params.is_null()) request["params"] = std::move(params);
  MS_RETURN_IF_ERROR(writeAll(dumpJson(request) + "\n"));
  for (;;) {
    auto msg = readMessage(timeout_ms);
    if (!msg) return msg.status();
    Json& m = *msg;
    if (!m.is_object()) continue;
    if (!m.contains("id")) {
      notifications_.push_back(std::move(m));
      continue;
    }
    if (m["id"] != id) {
      // A reply without our id: the daemon could not read our request at all.
      if (m["id"].is_null() && m.contains("error")) return statusFromRpcError(m["error"]);
      continue;
    }
    if (m.contains("error")) return statusFromRpcError(m["error"]);
    return m.contains("result") ? m["result"] : Json();
  }
}

Result<Json> ControlClient::next(int timeout_ms) {
  if (!notifications_.empty()) {
    Json m = std::move(notifications_.front());
    notifications_.pop_front();
    return m;
  }
  for (;;) {
    auto msg = readMessage(timeout_ms);
    if (!msg) return msg.status();
    if (msg->is_object() && !msg->contains("id")) return msg;
  }
}

Status statusFromRpcError(const Json& error) {
  std::string message = "daemon error";
  int code = rpc::kInternalError;
  if (error.is_object()) {
    if (error.contains("message") && error["message"].is_string()) message = error["message"].get<std::string>();
    if (error.contains("code") && error["code"].is_number_integer()) code = error["code"].get<int>();
  }
  switch (code) {
    case rpc::kParseError:
    case rpc::kInvalidRequest:
    case rpc::kMethodNotFound:
    case rpc::kInvalidParams: return invalidArgument(message);
    case rpc::kTooLarge: return tooLarge(message);
    case rpc::kNotFound: return Status(Code::kNotFound, message);
    case rpc::kUnavailable: return Status(Code::kClosed, message);
    case rpc::kBusy: return Status(Code::kBusy, message);
    default: return Status(Code::kInternal, message);
  }
}

}  // namespace meshslice
