#include "node/line_splitter.h"

namespace meshslice {

Status LineSplitter::feed(std::string_view chunk, const std::function<bool(std::string_view)>& on_line) {
  if (failed_) return tooLarge("line too long");
  while (!chunk.empty()) {
    size_t nl = chunk.find('\n');
    std::string_view piece = chunk.substr(0, nl);
    if (partial_.size() + piece.size() > max_line_) {
      failed_ = true;
      partial_.clear();
      return tooLarge("line longer than " + std::to_string(max_line_) + " bytes");
    }
    if (nl == std::string_view::npos) {
      partial_.append(piece);
      return Status::ok();
    }
    chunk.remove_prefix(nl + 1);
    std::string_view line = piece;
    if (!partial_.empty()) {
      partial_.append(piece);
      line = partial_;
    }
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    bool go_on = on_line(line);
    partial_.clear();
    if (!go_on) return Status::ok();
  }
  return Status::ok();
}

}  // namespace meshslice
