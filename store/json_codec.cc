#include "store/json_codec.h"

namespace meshslice {

size_t jsonNestingDepth(std::string_view text, size_t limit) {
  size_t depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '[' || c == '{') {
      if (++depth > deepest) deepest = depth;
      if (deepest > limit) return deepest;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

namespace detail {

Status checkJsonDepth(std::string_view text, size_t max_depth) {
  if (jsonNestingDepth(text, max_depth) > max_depth)
    return tooLarge("json: nested deeper than " + std::to_string(max_depth));
  return Status::ok();
}

namespace {
void appendShape(const nlohmann::json& v, std::string& out) {
  switch (v.type()) {
    case nlohmann::json::value_t::object:
      out += '{';
      for (const auto& [key, member] : v.items()) {  // sorted by key
        out += std::to_string(key.size()) + ":" + key;
        appendShape(member, out);
      }
      out += '}';
      break;
    case nlohmann::json::value_t::array:
      out += "[" + std::to_string(v.size());
      for (const auto& element : v) appendShape(element, out);
      out += ']';
      break;
    case nlohmann::json::value_t::string: out += 's'; break;
    case nlohmann::json::value_t::boolean: out += 'b'; break;
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned: out += 'i'; break;
    case nlohmann::json::value_t::number_float: out += 'f'; break;
    default: out += 'n'; break;
  }
}
}  // namespace

std::string jsonShape(const nlohmann::json& value) {
  std::string shape;
  appendShape(value, shape);
  return shapeFingerprint(shape);
}

}  // namespace detail
}  // namespace meshslice
