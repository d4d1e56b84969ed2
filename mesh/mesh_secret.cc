#include "mesh/mesh_secret.h"

#include <cstdlib>

#include <sodium.h>

#include "base/base32.h"
#include "mesh/key_file.h"

namespace meshslice {

namespace {

constexpr std::string_view kTagDomain = "meshslice-mesh-tag-v1";
constexpr std::string_view kPskDomain = "meshslice-noise-psk-v1";
constexpr std::string_view kFileHeader = "meshslice-mesh v1";
constexpr size_t kChecksumSize = 4;
constexpr size_t kInvitePayload = 32 + kChecksumSize;
constexpr size_t kInviteChars = (kInvitePayload * 8 + 4) / 5;  // 58
constexpr size_t kInviteGroup = 8;

void initSodium() {
  if (sodium_init() < 0) std::abort();  // no usable randomness: nothing safe to do
}

void keyedHash(const Key32& key, std::string_view domain, uint8_t* out, size_t out_len) {
  crypto_generichash(out, out_len, reinterpret_cast<const uint8_t*>(domain.data()),
                     domain.size(), key.data(), key.size());
}

std::string keyFilePath(const std::string& state_dir) {
  return state_dir + "/" + std::string(kMeshKeyFileName);
}

Status corrupt(const std::string& path, const std::string& why) {
  return malformed("mesh key file " + path + " is corrupt: " + why +
                   ". It was left untouched; restore it, or rejoin the mesh with an invite");
}

bool isSeparator(char c) { return c == '-' || c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace

MeshSecret MeshSecret::generate() {
  initSodium();
  Key32 key;
  randombytes_buf(key.data(), key.size());
  MeshSecret secret(key);
  sodium_memzero(key.data(), key.size());
  return secret;
}

MeshSecret MeshSecret::fromBytes(const Key32& secret) { return MeshSecret(secret); }

MeshSecret::MeshSecret(MeshSecret&& other) noexcept : secret_(other.secret_) {
  sodium_memzero(other.secret_.data(), other.secret_.size());
}

MeshSecret& MeshSecret::operator=(MeshSecret&& other) noexcept {
  if (this != &other) {
    secret_ = other.secret_;
    sodium_memzero(other.secret_.data(), other.secret_.size());
  }
  return *this;
}

MeshSecret::~MeshSecret() { sodium_memzero(secret_.data(), secret_.size()); }

bool operator==(const MeshSecret& a, const MeshSecret& b) {
  return sodium_memcmp(a.secret_.data(), b.secret_.data(), a.secret_.size()) == 0;
}

std::string MeshSecret::tag() const {
  uint8_t digest[32];
  keyedHash(secret_, kTagDomain, digest, sizeof digest);
  return toHex(ByteView(digest, 8));
}

Key32 MeshSecret::psk() const {
  Key32 out;
  keyedHash(secret_, kPskDomain, out.data(), out.size());
  return out;
}

std::string MeshSecret::toInvite(InviteFormat format) const {
  uint8_t payload[kInvitePayload];
  std::copy(secret_.begin(), secret_.end(), payload);
  crypto_generichash(payload + 32, kChecksumSize, secret_.data(), secret_.size(), nullptr, 0);
  std::string b32 = base32Encode(ByteView(payload, sizeof payload));
  sodium_memzero(payload, sizeof payload);
  std::string out(kInvitePrefix);
  out.reserve(kInvitePrefix.size() + kInviteChars + kInviteChars / kInviteGroup);
  for (size_t i = 0; i < b32.size(); ++i) {
    if (format == InviteFormat::kGrouped && i > 0 && i % kInviteGroup == 0) out.push_back('-');
    out.push_back(lower(b32[i]));
  }
  sodium_memzero(b32.data(), b32.size());
  return out;
}

Result<MeshSecret> MeshSecret::fromInvite(std::string_view invite) {
  constexpr size_t kMaxInput = 256;  // twice any sensible formatting of 63 characters
  if (invite.size() > kMaxInput) return invalidArgument("invite is too long");
  std::string_view bare_prefix = kInvitePrefix.substr(0, kInvitePrefix.size() - 1);  // "msm1"
  size_t pos = 0;
  while (pos < invite.size() && isSeparator(invite[pos])) ++pos;
  bool prefix_ok = invite.size() - pos >= bare_prefix.size();
  for (size_t i = 0; prefix_ok && i < bare_prefix.size(); ++i) {
    prefix_ok = lower(invite[pos + i]) == bare_prefix[i];
  }
  if (!prefix_ok) {
    return invalidArgument("not a meshslice invite: it must start with '" +
                           std::string(kInvitePrefix) + "'");
  }
  std::string chars;
  chars.reserve(invite.size());
  for (char c : invite.substr(pos + bare_prefix.size())) {
    if (isSeparator(c)) continue;
    if (base32Value(c) < 0) {
      sodium_memzero(chars.data(), chars.size());
      return invalidArgument("invite has an invalid character '" + std::string(1, c) +
                             "' (invites use a-z and 2-7)");
    }
    chars.push_back(c);
  }
  size_t got = chars.size();
  Bytes payload;
  bool decoded = got == kInviteChars && base32Decode(chars, payload);
  sodium_memzero(chars.data(), chars.size());
  if (got != kInviteChars) {
    return invalidArgument("invite has " + std::to_string(got) + " characters after '" +
                           std::string(kInvitePrefix) + "', expected " +
                           std::to_string(kInviteChars) + " (was it copied completely?)");
  }
  uint8_t expected[kChecksumSize];
  bool match = false;
  if (decoded) {
    crypto_generichash(expected, sizeof expected, payload.data(), 32, nullptr, 0);
    match = sodium_memcmp(expected, payload.data() + 32, kChecksumSize) == 0;
  }
  if (!match) {
    sodium_memzero(payload.data(), payload.size());
    return invalidArgument("invite checksum does not match: the invite has a typo");
  }
  Key32 key;
  std::copy(payload.begin(), payload.begin() + 32, key.begin());
  sodium_memzero(payload.data(), payload.size());
  MeshSecret secret(key);
  sodium_memzero(key.data(), key.size());
  return secret;
}

Result<MeshSecret> MeshSecret::load(const std::string& state_dir) {
  std::string path = keyFilePath(state_dir);
  Result<std::string> contents = readPrivateFile(path, "mesh key file");
  if (!contents.isOk()) return contents.status();
  Result<MeshSecret> result = corrupt(path, "no 'secret' line");
  auto lines = parseKeyFileLines(*contents, kFileHeader);
  if (!lines.isOk()) {
    result = corrupt(path, lines.status().message());
  } else {
    for (const auto& [key, value] : *lines) {
      if (key != "secret") {
        result = corrupt(path, "unknown key '" + std::string(key) + "'");
        break;
      }
      Key32 raw;
      result = parseSecretHex(value, raw)
                   ? Result<MeshSecret>(MeshSecret(raw))
                   : Result<MeshSecret>(corrupt(path, "the secret is not 64 hex digits"));
      sodium_memzero(raw.data(), raw.size());
    }
  }
  sodium_memzero(contents->data(), contents->size());
  return result;
}

Status MeshSecret::writeFile(const std::string& path, bool replace) const {
  std::string text(kFileHeader);
  text.reserve(kFileHeader.size() + 8 + 64 + 2);  // no reallocation after the secret goes in
  text += "\nsecret ";
  appendSecretHex(text, secret_);
  text += "\n";
  Status st = writePrivateFile(path, text, replace);
  sodium_memzero(text.data(), text.size());
  return st;
}

Status MeshSecret::save(const std::string& state_dir) const {
  MS_RETURN_IF_ERROR(ensurePrivateDir(state_dir));
  return writeFile(keyFilePath(state_dir), /*replace=*/true);
}

Status MeshSecret::create(const std::string& state_dir) const {
  MS_RETURN_IF_ERROR(ensurePrivateDir(state_dir));
  return writeFile(keyFilePath(state_dir), /*replace=*/false);
}

Result<MeshSecret> MeshSecret::loadOrCreate(const std::string& state_dir) {
  Result<MeshSecret> existing = load(state_dir);
  if (existing.isOk() || existing.status().code() != Code::kNotFound) return existing;
  MeshSecret fresh = generate();
  Status st = fresh.create(state_dir);
  if (st.code() == Code::kAlreadyExists) return load(state_dir);  // lost a creation race
  if (!st.isOk()) return st;
  return fresh;
}

}  // namespace meshslice
