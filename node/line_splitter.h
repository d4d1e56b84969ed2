// Splits a byte stream into '\n'-terminated lines with a bound on line length, for the
// control socket (one JSON-RPC message a line). A trailing '\r' is dropped. Pure and
// single-threaded.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace meshslice {

class LineSplitter {
 public:
  explicit LineSplitter(size_t max_line) : max_line_(max_line) {}

  // Calls on_line for every complete line in `chunk` (plus what earlier chunks left over).
  // Returns kTooLarge once a line exceeds max_line bytes (without its newline); the splitter is
  // then spent and the stream should be dropped. on_line returning false stops early (the rest
  // of the chunk is discarded), e.g. when the connection closed meanwhile.
  Status feed(std::string_view chunk, const std::function<bool(std::string_view)>& on_line);
  size_t buffered() const { return partial_.size(); }

 private:
  size_t max_line_;
  std::string partial_;
  bool failed_ = false;
};

}  // namespace meshslice
