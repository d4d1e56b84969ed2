// Ownership of libuv handles. A UvHandle<T> owns one heap-allocated uv handle; destroying the
// owner calls uv_close, and the memory is freed only in the close callback, as libuv requires.
// handle->data points at `owner` while the owner lives and is nulled on close, so callbacks
// that arrive for a closing handle can tell and return.
#pragma once

#include <uv.h>

#include <cassert>

namespace meshslice {

template <typename T>
class UvHandle {
 public:
  UvHandle() : h_(new T{}) {}
  ~UvHandle() { close(); }
  UvHandle(const UvHandle&) = delete;
  UvHandle& operator=(const UvHandle&) = delete;

  T* get() const { return h_; }
  uv_handle_t* handle() const { return reinterpret_cast<uv_handle_t*>(h_); }
  uv_stream_t* stream() const { return reinterpret_cast<uv_stream_t*>(h_); }
  bool initialized() const { return initialized_; }
  // Call after a successful uv_*_init: from then on the handle must be closed, not deleted.
  void markInitialized(void* owner) {
    initialized_ = true;
    h_->data = owner;
  }
  // Closes the handle (idempotent). Safe from inside the handle's own callbacks.
  void close() {
    if (!h_) return;
    if (!initialized_) {
      delete h_;
    } else {
      h_->data = nullptr;
      if (!uv_is_closing(handle())) {
        uv_close(handle(), [](uv_handle_t* h) { delete reinterpret_cast<T*>(h); });
      }
      // else: someone else closed it with its own close callback that frees it.
    }
    h_ = nullptr;
  }

 private:
  T* h_;
  bool initialized_ = false;
};

// The owner of a handle whose data pointer is still set, or nullptr while it is closing.
template <typename Owner, typename H>
Owner* ownerOf(H* h) {
  return static_cast<Owner*>(h->data);
}

}  // namespace meshslice
