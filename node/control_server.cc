#include "node/control_server.h"

#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/log.h"
#include "node/stream_write.h"

namespace meshslice {
namespace {

constexpr size_t kReadChunk = 64 * 1024;

}  // namespace

ControlConnection::ControlConnection(ControlServer& server, uint64_t id)
    : server_(server), id_(id), lines_(server.options().max_line) {}

void ControlConnection::send(const Json& message, std::function<void()> on_written) {
  if (closed_) return;
  if (uv_stream_get_write_queue_size(pipe_.stream()) > server_.options_.max_backlog) {
    server_.drop(*this, "client is not reading its messages");
    return;
  }
  std::string line = dumpJson(message);
  line.push_back('\n');
  std::function<void(int)> done;
  if (on_written)
    done = [on_written = std::move(on_written), alive = std::weak_ptr<int>(alive_)](int status) {
      if (status == 0 && !alive.expired()) on_written();
    };
  int rc = writeOwned(pipe_.stream(), std::move(line), std::move(done));
  if (rc != 0) server_.drop(*this, uv_strerror(rc));  // the write's callback will never run
}

void ControlConnection::onRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* self = ownerOf<ControlConnection>(stream);
  if (!self || nread == 0) return;
  (void)buf;
  if (nread < 0) {
    self->server_.drop(*self, nread == UV_EOF ? nullptr : uv_strerror(static_cast<int>(nread)));
    return;
  }
  self->handleBytes(std::string_view(self->read_buffer_.data(), static_cast<size_t>(nread)));
}

void ControlConnection::handleBytes(std::string_view bytes) {
  Status st = lines_.feed(bytes, [this](std::string_view line) {
    if (line.find_first_not_of(" \t") == std::string_view::npos) return true;  // blank line
    auto value = parseJson(line);
    if (!value) send(rpc::error(nullptr, rpc::kParseError, "parse error: " + value.status().message()));
    else server_.handler_.onMessage(*this, *value);
    return !closed_;
  });
  if (!st.isOk() && !closed_) {
    send(rpc::error(nullptr, rpc::kInvalidRequest, st.message()));
    server_.drop(*this, "request line too long");
  }
}

ControlServer::ControlServer(Env& env, uv_loop_t* loop, ControlHandler& handler, ControlServerOptions options)
    : loop_(loop), handler_(handler), options_(options), connections_(env) {}

ControlServer::~ControlServer() { stop(); }

Status ControlServer::listen(const std::string& path) {
  if (path.size() >= sizeof(sockaddr_un{}.sun_path))
    return invalidArgument("control socket path " + path + " is too long (" + std::to_string(path.size()) +
                           " bytes, at most " + std::to_string(sizeof(sockaddr_un{}.sun_path) - 1) +
                           "): use a shorter state directory");
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) return ioError(path + " exists and is not a socket: move it away");
    if (::unlink(path.c_str()) != 0) return ioError("remove stale socket " + path + ": " + std::strerror(errno));
  }
  auto h = std::make_unique<UvHandle<uv_pipe_t>>();
  int rc = uv_pipe_init(loop_, h->get(), 0);
  if (rc != 0) return ioError(std::string("pipe init: ") + uv_strerror(rc));
  h->markInitialized(this);
  // The socket is created with the umask's mode: keep group and others out from the start.
  mode_t old_mask = ::umask(0177);
  rc = uv_pipe_bind(h->get(), path.c_str());
  ::umask(old_mask);
  if (rc == 0 && ::chmod(path.c_str(), 0600) != 0) rc = -errno;
  if (rc == 0) rc = uv_listen(h->stream(), 16, &ControlServer::onConnection);
  if (rc != 0) {
    ::unlink(path.c_str());
    return ioError("control socket " + path + ": " + uv_strerror(rc));
  }
  path_ = path;
  listener_ = std::move(h);
  return Status::ok();
}

void ControlServer::stop() {
  if (listener_) {
    listener_.reset();
    ::unlink(path_.c_str());
  }
  while (!connections_.empty()) drop(connections_.front(), nullptr);
  connections_.freeRetired();  // handles are closed; libuv frees them in their close callbacks
}

void ControlServer::onConnection(uv_stream_t* server, int status) {
  auto* self = ownerOf<ControlServer>(server);
  if (!self) return;
  if (status != 0) {
    MS_LOG(kWarn, "control") << "accept: " << uv_strerror(status);
    return;
  }
  if (self->connections_.size() >= self->options_.max_clients) self->refuse("too many control clients");
  else self->accept();
}

void ControlServer::accept() {
  auto conn = std::make_unique<ControlConnection>(*this, next_id_++);
  int rc = uv_pipe_init(loop_, conn->pipe_.get(), 0);
  if (rc != 0) return;
  conn->pipe_.markInitialized(conn.get());
  rc = uv_accept(listener_->stream(), conn->pipe_.stream());
  if (rc == 0) {
    rc = uv_read_start(
        conn->pipe_.stream(),
        [](uv_handle_t* h, size_t, uv_buf_t* buf) {
          auto* c = static_cast<ControlConnection*>(h->data);
          c->read_buffer_.resize(kReadChunk);
          *buf = uv_buf_init(c->read_buffer_.data(), static_cast<unsigned>(kReadChunk));
        },
        &ControlConnection::onRead);
  }
  if (rc != 0) {
    MS_LOG(kWarn, "control") << "accept: " << uv_strerror(rc);
    return;  // conn's destructor closes the handle
  }
  MS_LOG(kDebug, "control") << "client " << conn->id() << " connected";
  connections_.add(std::move(conn));
}

void ControlServer::refuse(const char* reason) {
  UvHandle<uv_pipe_t> pipe;
  if (uv_pipe_init(loop_, pipe.get(), 0) != 0) return;
  pipe.markInitialized(nullptr);
  if (uv_accept(listener_->stream(), pipe.stream()) != 0) return;
  std::string line = dumpJson(rpc::error(nullptr, rpc::kBusy, reason)) + "\n";
  uv_buf_t buf = uv_buf_init(line.data(), static_cast<unsigned>(line.size()));
  uv_try_write(pipe.stream(), &buf, 1);  // best effort; the close follows at once
  MS_LOG(kWarn, "control") << "refused a client: " << reason;
}

void ControlServer::drop(ControlConnection& conn, const char* why) {
  if (conn.closed_) return;
  conn.closed_ = true;
  conn.alive_.reset();
  if (why) MS_LOG(kInfo, "control") << "client " << conn.id() << " dropped: " << why;
  handler_.onClosed(conn);
  conn.pipe_.close();
  connections_.retire(conn);
}

}  // namespace meshslice
