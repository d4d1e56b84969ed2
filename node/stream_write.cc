#include "node/stream_write.h"

#include <memory>

namespace meshslice {
namespace {

struct WriteRequest {
  uv_write_t req;
  std::string data;
  std::function<void(int)> done;
};

}  // namespace

int writeOwned(uv_stream_t* stream, std::string data, std::function<void(int status)> done) {
  auto w = std::make_unique<WriteRequest>();
  w->data = std::move(data);
  w->done = std::move(done);
  w->req.data = w.get();
  uv_buf_t buf = uv_buf_init(w->data.data(), static_cast<unsigned>(w->data.size()));
  int rc = uv_write(&w->req, stream, &buf, 1, [](uv_write_t* req, int status) {
    std::unique_ptr<WriteRequest> finished(static_cast<WriteRequest*>(req->data));
    if (finished->done) finished->done(status);
  });
  if (rc == 0) w.release();  // freed in the callback
  return rc;
}

}  // namespace meshslice
