// JsonCodec<T>: slice data as JSON text through nlohmann-json's to_json/from_json (or
// NLOHMANN_DEFINE_TYPE_*), so a C++ app and the daemon (whose stores hold JSON text) can share
// one store:
//
//   struct Todo { std::string text; bool done = false; };
//   NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Todo, text, done)
//   template <> struct meshslice::StoreSchema<Todo> {
//     static constexpr std::string_view name = "todo";
//     static constexpr uint32_t version = 1;
//   };
//   auto todos = JsonStore<Todo>::open("todos", node_id);   // contract json:todo@1
//
// The codec is part of the store's contract ("json"); its default schema is a fingerprint of
// a default-constructed T's JSON shape (member names and value types). The daemon declares a
// contract for a store from its config (docs/CLI.md, "contract"). Using this header needs
// nlohmann-json (find_package(nlohmann_json), nlohmann_json::nlohmann_json); the library
// itself does not.
//
// Decoding is bounded: at most kSliceDataMaxDepth levels of nesting, checked before parsing.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "store/synced_store.h"

namespace meshslice {

// The deepest array/object nesting in `text` (strings are skipped; the syntax is the parser's
// job); stops counting above `limit`.
size_t jsonNestingDepth(std::string_view text, size_t limit);

namespace detail {
// OK if the JSON text nests at most `max_depth` arrays/objects, else kTooLarge.
Status checkJsonDepth(std::string_view text, size_t max_depth);
// shapeFingerprint() over the member names and value types of `value` (not its values).
std::string jsonShape(const nlohmann::json& value);
}  // namespace detail

template <typename T>
struct JsonCodec {
  static constexpr std::string_view kName = "json";
  static std::string fingerprint() {
    try {
      return detail::jsonShape(nlohmann::json(T{}));
    } catch (const std::exception&) {
      return {};
    }
  }
  static Result<Bytes> encode(const T& value) {
    try {
      return toBytes(nlohmann::json(value).dump());
    } catch (const std::exception& e) {
      return Status(Code::kInvalidArgument, std::string("json encode: ") + e.what());
    }
  }
  static Result<T> decode(ByteView data) {
    if (data.size() > kMaxSliceData) return tooLarge("json: slice data over the slice limit");
    const std::string_view text(reinterpret_cast<const char*>(data.data()), data.size());
    MS_RETURN_IF_ERROR(detail::checkJsonDepth(text, kSliceDataMaxDepth));
    try {
      nlohmann::json parsed = nlohmann::json::parse(text);
      return parsed.get<T>();
    } catch (const std::exception& e) {
      return malformed(std::string("json: not a value of the store's type: ") + e.what());
    }
  }
};

template <typename T>
using JsonStore = SyncedStore<T, JsonCodec<T>>;

}  // namespace meshslice
