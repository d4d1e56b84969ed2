// Errors are values: Status carries a code and a human-readable message; Result<T> carries a
// value or a Status. Neither throws. Bad input from the network, files or the CLI returns an
// error Status; programmer misuse asserts.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>

namespace meshslice {

enum class Code {
  kOk = 0,
  kInvalidArgument,   // caller passed something malformed (bad CLI value, bad namespace)
  kMalformed,         // untrusted bytes failed to decode
  kTooLarge,          // a size limit was exceeded
  kNotFound,
  kAlreadyExists,
  kBusy,              // a bounded queue is full: back off and retry
  kClosed,            // the link, node or handle is closed
  kTimeout,
  kAuthFailed,        // handshake or AEAD authentication failed
  kPermissionDenied,  // file modes, allow-lists, ownership of slices
  kIncompatible,      // protocol version mismatch
  kIo,                // an OS-level error (errno / libuv code in the message)
  kInternal,
  kWrongThread,       // a call that waits for the loop thread, made on it (MS_ERR_WRONG_THREAD)
};

const char* codeName(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok() { return Status(); }

  bool isOk() const { return code_ == Code::kOk; }
  explicit operator bool() const { return isOk(); }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // "code: message", for logs and CLI output.
  std::string toString() const;

  // Marks a Status as deliberately ignored.
  void ignore() const {}

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

inline Status invalidArgument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
inline Status malformed(std::string m) { return {Code::kMalformed, std::move(m)}; }
inline Status tooLarge(std::string m) { return {Code::kTooLarge, std::move(m)}; }
inline Status ioError(std::string m) { return {Code::kIo, std::move(m)}; }

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT
    assert(!status_.isOk() && "Result constructed from an OK status without a value");
  }

  bool isOk() const { return value_.has_value(); }
  explicit operator bool() const { return isOk(); }
  const Status& status() const { return status_; }

  T& value() & {
    assert(isOk());
    return *value_;
  }
  const T& value() const& {
    assert(isOk());
    return *value_;
  }
  T&& value() && {
    assert(isOk());
    return std::move(*value_);
  }
  // Marks a Result as deliberately ignored.
  void ignore() const {}
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() { return value(); }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace meshslice

// Propagates a non-OK Status out of the current function.
#define MS_RETURN_IF_ERROR(expr)              \
  do {                                        \
    ::meshslice::Status _st = (expr);         \
    if (!_st.isOk()) return _st;              \
  } while (0)
