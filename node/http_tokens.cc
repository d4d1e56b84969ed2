#include "node/http_tokens.h"

#include <sodium.h>

#include <algorithm>
#include <array>

#include "mesh/key_file.h"

namespace meshslice {
namespace {

bool isBase64UrlChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

bool sameToken(std::string_view a, std::string_view b) {
  return a.size() == b.size() && !a.empty() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

Result<std::string> loadOrCreate(const std::string& path, bool read_only) {
  const char* what = read_only ? "read-only HTTP token file" : "HTTP token file";
  auto text = readPrivateFile(path, what);
  if (!text && text.status().code() == Code::kNotFound) {
    std::string token = newHttpToken(read_only);
    Status st = writePrivateFile(path, token + "\n", /*replace=*/false);
    if (st.isOk()) return token;
    if (st.code() != Code::kAlreadyExists) return st;
    text = readPrivateFile(path, what);  // another process made it meanwhile
  }
  if (!text) return text.status();
  std::string token = *text;
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  if (!isWellFormedHttpToken(token, read_only))
    return malformed(std::string(what) + " " + path + " does not hold one token (delete it to make a new one)");
  return token;
}

}  // namespace

HttpAccess HttpTokens::check(std::string_view presented) const {
  // Both comparisons always run, so the time taken does not tell which token was close.
  const bool is_full = sameToken(presented, full);
  const bool is_read = sameToken(presented, read_only);
  if (is_full) return HttpAccess::kFull;
  if (is_read) return HttpAccess::kReadOnly;
  return HttpAccess::kNone;
}

std::string newHttpToken(bool read_only) {
  std::array<uint8_t, 32> bytes;
  randombytes_buf(bytes.data(), bytes.size());
  const int variant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
  std::string encoded(sodium_base64_encoded_len(bytes.size(), variant), '\0');
  sodium_bin2base64(encoded.data(), encoded.size(), bytes.data(), bytes.size(), variant);
  encoded.resize(encoded.size() - 1);  // the terminating NUL
  sodium_memzero(bytes.data(), bytes.size());
  return std::string(read_only ? kReadOnlyTokenPrefix : kFullTokenPrefix) + encoded;
}

bool isWellFormedHttpToken(std::string_view token, bool read_only) {
  std::string_view prefix = read_only ? kReadOnlyTokenPrefix : kFullTokenPrefix;
  return token.size() == kHttpTokenLength && token.substr(0, prefix.size()) == prefix &&
         std::all_of(token.begin() + static_cast<ptrdiff_t>(prefix.size()), token.end(), isBase64UrlChar);
}

Result<HttpTokens> loadOrCreateHttpTokens(const std::string& state_dir) {
  MS_RETURN_IF_ERROR(ensurePrivateDir(state_dir));
  auto full = loadOrCreate(state_dir + "/" + std::string(kHttpTokenFileName), false);
  if (!full) return full.status();
  auto read_only = loadOrCreate(state_dir + "/" + std::string(kHttpReadOnlyTokenFileName), true);
  if (!read_only) return read_only.status();
  return HttpTokens{std::move(full.value()), std::move(read_only.value())};
}

}  // namespace meshslice
