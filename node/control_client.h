// ControlClient: the CLI side of the control socket (docs/CONTROL.md). Blocking POSIX I/O on
// the calling thread; one request in flight at a time. Move-only; not thread-safe.
#pragma once

#include <deque>
#include <string>
#include <string_view>

#include "base/status.h"
#include "node/json_util.h"
#include "node/line_splitter.h"

namespace meshslice {

// Responses may carry many slices (get of a whole store): much larger than requests.
inline constexpr size_t kMaxClientLine = 256 * 1024 * 1024;

class ControlClient {
 public:
  // kNotFound when no daemon listens at `path` (no socket file, or a stale one: connection
  // refused); kPermissionDenied when the socket belongs to someone else; kIo otherwise.
  static Result<ControlClient> connect(const std::string& path);

  ControlClient(ControlClient&& other) noexcept;
  ControlClient& operator=(ControlClient&&) = delete;
  ControlClient(const ControlClient&) = delete;
  ~ControlClient();

  // Sends a request and waits up to timeout_ms (-1: forever) for its response. Returns the
  // "result" member. A JSON-RPC error becomes a Status: kInvalidArgument (invalid params or
  // request, unknown method), kTooLarge, kNotFound, kClosed (node unavailable), kInternal;
  // the message is the daemon's. kClosed if the daemon hung up, kTimeout.
  Result<Json> call(std::string_view method, Json params, int timeout_ms);
  // The next message that is not a response (a notification), waiting up to timeout_ms.
  Result<Json> next(int timeout_ms);

 private:
  explicit ControlClient(int fd) : fd_(fd), lines_(kMaxClientLine) {}
  Result<Json> readMessage(int timeout_ms);
  Status writeAll(std::string_view data);

  int fd_ = -1;
  int64_t next_id_ = 1;
  LineSplitter lines_;
  std::deque<std::string> ready_;          // complete lines not yet parsed
  std::deque<Json> notifications_;         // read while waiting for a response
};

// Maps a JSON-RPC error object to a Status (see call()).
Status statusFromRpcError(const Json& error);

}  // namespace meshslice
