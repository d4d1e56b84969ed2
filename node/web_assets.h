// The dashboard's files (node/web/), embedded into the binary at build time: CMake turns each
// file into bytes of a generated web_assets.cc (cmake/web_assets.cmake), so the daemon needs
// no data directory and the page always matches the daemon that serves it.
#pragma once

#include <span>
#include <string_view>

namespace meshslice {

struct WebAsset {
  std::string_view path;          // URL path: "/" for index.html, else "/<file name>"
  std::string_view content_type;
  std::string_view data;
};

std::span<const WebAsset> webAssets();
// The asset for a URL path, or nullptr.
const WebAsset* findWebAsset(std::string_view path);

}  // namespace meshslice
