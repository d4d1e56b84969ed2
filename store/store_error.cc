#include "store/store_error.h"

namespace meshslice {

const char* storePhaseName(StorePhase phase) {
  switch (phase) {
    case StorePhase::kDecode: return "decode";
    case StorePhase::kApply: return "apply";
    case StorePhase::kPersist: return "persist";
    case StorePhase::kSend: return "send";
    case StorePhase::kContract: return "contract";
  }
  return "unknown";
}

}  // namespace meshslice
