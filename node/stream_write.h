// One write to a libuv stream that owns its bytes until libuv's write callback (uvw's rule:
// write requests own their buffers). Used by the control socket and the HTTP server.
#pragma once

#include <uv.h>

#include <functional>
#include <string>

namespace meshslice {

// Queues `data` on `stream`. `done` (may be empty) runs from libuv's callback with its status:
// 0 once the kernel took the bytes, an error, or UV_ECANCELED when the handle closed first.
// Returns uv_write's error; then `done` never runs.
int writeOwned(uv_stream_t* stream, std::string data, std::function<void(int status)> done);

}  // namespace meshslice
