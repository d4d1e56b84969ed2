#include "node/json_util.h"

#include <sodium.h>

#include "base/msgpack_limits.h"

namespace meshslice {

Result<Json> parseJson(std::string_view text, size_t max_depth) {
  if (jsonNestingDepth(text, max_depth) > max_depth)
    return malformed("JSON nested deeper than " + std::to_string(max_depth) + " levels");
  Json value = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) return malformed("not valid JSON");
  return value;
}

std::string dumpJson(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string toBase64(ByteView bytes) {
  const int variant = sodium_base64_VARIANT_ORIGINAL;
  std::string out(sodium_base64_encoded_len(bytes.size(), variant), '\0');
  sodium_bin2base64(out.data(), out.size(), bytes.data(), bytes.size(), variant);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

void putBytes(Json& object, ByteView bytes) {
  std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  if (isValidUtf8(text)) object["data"] = std::string(text);
  else object["data_base64"] = toBase64(bytes);
}

namespace rpc {

Json result(const Json& id, Json result) {
  return Json{{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}};
}

Json error(const Json& id, int code, std::string_view message) {
  return Json{{"jsonrpc", "2.0"}, {"id", id}, {"error", {{"code", code}, {"message", std::string(message)}}}};
}

Json notification(std::string_view method, Json params) {
  return Json{{"jsonrpc", "2.0"}, {"method", std::string(method)}, {"params", std::move(params)}};
}

int codeFor(const Status& status) {
  switch (status.code()) {
    case Code::kInvalidArgument:
    case Code::kMalformed: return kInvalidParams;
    case Code::kTooLarge: return kTooLarge;
    case Code::kNotFound: return kNotFound;
    case Code::kClosed: return kUnavailable;
    case Code::kBusy: return kBusy;
    default: return kInternalError;
  }
}

}  // namespace rpc
}  // namespace meshslice
