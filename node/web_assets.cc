#include "node/web_assets.h"

namespace meshslice {

const WebAsset* findWebAsset(std::string_view path) {
  for (const WebAsset& a : webAssets())
    if (a.path == path) return &a;
  return nullptr;
}

}  // namespace meshslice
