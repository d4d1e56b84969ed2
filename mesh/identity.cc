#include "mesh/identity.h"

#include <cassert>
#include <cstdlib>

#include <sodium.h>

#include "mesh/key_file.h"

namespace meshslice {

namespace {

constexpr std::string_view kHeader = "meshslice-identity v1";

void initSodium() {
  if (sodium_init() < 0) std::abort();  // no usable randomness: nothing safe to do
}

Status corrupt(const std::string& path, const std::string& why) {
  return malformed("identity file " + path + " is corrupt: " + why +
                   ". It was left untouched; restore it from a backup, or move it away to "
                   "create a new identity (this device then gets a new device ID)");
}

// Parses the file body. Wipes every temporary copy of the private key.
Result<Identity> parseIdentityFile(const std::string& path, std::string_view contents) {
  auto lines = parseKeyFileLines(contents, kHeader);
  if (!lines.isOk()) return corrupt(path, lines.status().message());
  std::string_view private_hex, name;
  bool has_private = false, has_name = false;
  for (const auto& [key, value] : *lines) {
    if (key == "private") {
      private_hex = value, has_private = true;
    } else if (key == "name") {
      name = value, has_name = true;
    } else {
      return corrupt(path, "unknown key '" + std::string(key) + "'");
    }
  }
  if (!has_private) return corrupt(path, "no 'private' line");
  if (!has_name) return corrupt(path, "no 'name' line");
  Status name_ok = validateDeviceName(name);
  if (!name_ok.isOk()) return corrupt(path, name_ok.message());
  Key32 key;
  if (!parseSecretHex(private_hex, key)) {
    sodium_memzero(key.data(), key.size());
    return corrupt(path, "the private key is not 64 hex digits (32 bytes)");
  }
  Identity identity = Identity::fromPrivateKey(key, name);
  sodium_memzero(key.data(), key.size());
  return identity;
}

}  // namespace

Identity::Identity(const Key32& private_key, std::string_view name)
    : private_key_(private_key), name_(name) {
  initSodium();
  crypto_scalarmult_base(public_key_.data(), private_key_.data());
  device_id_ = DeviceId::fromPublicKey(public_key_);
}

Identity Identity::generate(std::string_view name) {
  initSodium();
  Key32 key;
  randombytes_buf(key.data(), key.size());
  Identity identity = fromPrivateKey(key, name);
  sodium_memzero(key.data(), key.size());
  return identity;
}

Identity Identity::fromPrivateKey(const Key32& private_key, std::string_view name) {
  assert(validateDeviceName(name).isOk() && "invalid display name");
  return Identity(private_key, name);
}

Identity::Identity(Identity&& other) noexcept
    : private_key_(other.private_key_),
      public_key_(other.public_key_),
      device_id_(other.device_id_),
      name_(std::move(other.name_)) {
  other.wipe();
}

Identity& Identity::operator=(Identity&& other) noexcept {
  if (this != &other) {
    private_key_ = other.private_key_;
    public_key_ = other.public_key_;
    device_id_ = other.device_id_;
    name_ = std::move(other.name_);
    other.wipe();
  }
  return *this;
}

Identity::~Identity() { wipe(); }

void Identity::wipe() { sodium_memzero(private_key_.data(), private_key_.size()); }

Result<Identity> Identity::load(const std::string& path) {
  Result<std::string> contents = readPrivateFile(path, "identity file");
  if (!contents.isOk()) return contents.status();
  Result<Identity> identity = parseIdentityFile(path, *contents);
  sodium_memzero(contents->data(), contents->size());
  return identity;
}

Status Identity::save(const std::string& path, bool replace) const {
  std::string text(kHeader);
  text.reserve(kHeader.size() + 16 + 64 + name_.size() + 8);  // no reallocation: one copy
  text += "\nprivate ";
  appendSecretHex(text, private_key_);
  text += "\nname ";
  text += name_;
  text += "\n";
  Status st = writePrivateFile(path, text, replace);
  sodium_memzero(text.data(), text.size());
  return st;
}

Result<Identity> Identity::loadOrCreate(const std::string& state_dir,
                                        std::string_view name_if_new) {
  std::string path = state_dir + "/" + std::string(kIdentityFileName);
  Result<Identity> existing = load(path);
  if (existing.isOk() || existing.status().code() != Code::kNotFound) return existing;
  MS_RETURN_IF_ERROR(validateDeviceName(name_if_new));
  MS_RETURN_IF_ERROR(ensurePrivateDir(state_dir));
  Identity fresh = generate(name_if_new);
  Status st = fresh.save(path, /*replace=*/false);
  if (st.code() == Code::kAlreadyExists) return load(path);  // another process won the race
  if (!st.isOk()) return st;
  return fresh;
}

}  // namespace meshslice
