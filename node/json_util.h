// JSON helpers for the control protocol (docs/CONTROL.md) that never throw: nlohmann-json
// reports errors by exception, so every parse and dump goes through here.
//
// JSON-RPC 2.0 (https://www.jsonrpc.org/specification), one message per line.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/status.h"
#include "store/json_codec.h"

namespace meshslice {

using Json = nlohmann::json;

// Deeper documents are refused before parsing: serialising is recursive, and a 2 MiB line of
// '[' must not exhaust the stack. This is the limit on a request line as a whole.
inline constexpr size_t kMaxJsonDepth = 64;
// A slice value sits inside a `set` request at level 3 (request object, params, value), so the
// deepest value a request can carry, and the deepest one the daemon accepts or shows as
// "value", is kMaxJsonDepth - 2 levels. Deeper slice data (only a library peer can write it)
// is shown as "data" (its text) instead.
inline constexpr size_t kRequestWrapLevels = 2;
inline constexpr size_t kMaxValueDepth = kMaxJsonDepth - kRequestWrapLevels;
// Replies wrap a value in more levels than requests do: the deepest is a batch reply to `get`
// (batch array, response, result, "slices" array, slice object, then the value). Everything
// the daemon writes nests at most kMaxReplyDepth levels, and ControlClient parses up to that.
inline constexpr size_t kReplyWrapLevels = 5;
inline constexpr size_t kMaxReplyDepth = kMaxValueDepth + kReplyWrapLevels;

// Parses one JSON text. kMalformed for bad syntax or nesting deeper than max_depth.
Result<Json> parseJson(std::string_view text, size_t max_depth = kMaxJsonDepth);
// jsonNestingDepth() is store/json_codec.h's.
// Compact single-line form; invalid UTF-8 in strings becomes U+FFFD rather than throwing.
std::string dumpJson(const Json& value);

// Payloads and slice data are bytes. In JSON they are {"data": <text>} when they are valid
// UTF-8 and {"data_base64": <standard base64>} otherwise.
void putBytes(Json& object, ByteView bytes);
std::string toBase64(ByteView bytes);

// JSON-RPC 2.0 error codes: the standard ones and ours (-32000..-32099, server errors).
namespace rpc {
inline constexpr int kParseError = -32700;
inline constexpr int kInvalidRequest = -32600;
inline constexpr int kMethodNotFound = -32601;
inline constexpr int kInvalidParams = -32602;
inline constexpr int kInternalError = -32603;
inline constexpr int kNotFound = -32000;      // no such store / device
inline constexpr int kTooLarge = -32001;      // a value above its limit
inline constexpr int kUnavailable = -32002;   // the node is stopping / not connected
inline constexpr int kBusy = -32003;          // too many clients or subscriptions
inline constexpr int kUnauthorized = -32004;  // HTTP API: no token, or an unknown one
inline constexpr int kForbidden = -32005;     // HTTP API: read-only token, Origin or Host refused

Json result(const Json& id, Json result);
Json error(const Json& id, int code, std::string_view message);
Json notification(std::string_view method, Json params);
// The JSON-RPC error code for a failed Status.
int codeFor(const Status& status);
}  // namespace rpc

}  // namespace meshslice
