// Fuzzes the readers of a node's key files (mesh/key_file.h, mesh/identity.h,
// mesh/mesh_secret.h): the input is written as <dir>/identity.key and <dir>/mesh.key (mode
// 0600, in a private temp dir on /dev/shm when it exists) and loaded with Identity::load and
// MeshSecret::load, the way `meshslice up` reads them; parseKeyFileLines also sees it directly
// under both headers. Nothing may crash. What loads must save and load back to the same key
// and name (the saved file must be canonical: saving it again gives the same bytes), and the
// line splitter's views must lie inside the input with unique, non-empty keys.
// Seeds: fuzz/corpus/key_file/ (files as the node writes them, and damaged ones).
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <set>
#include <string>

#include "mesh/identity.h"
#include "mesh/key_file.h"
#include "mesh/mesh_secret.h"

using namespace meshslice;

namespace {

std::string g_dir;

void removeDir() {
  for (const char* f : {"/identity.key", "/mesh.key", "/again.key", "/saved/mesh.key"}) std::remove((g_dir + f).c_str());
  rmdir((g_dir + "/saved").c_str());
  rmdir(g_dir.c_str());
}

std::string makeDir() {
  std::string tmpl = (access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp") + std::string("/meshslice-fuzz-keys.XXXXXX");
  if (!mkdtemp(tmpl.data())) std::abort();
  g_dir = tmpl;
  std::atexit(removeDir);
  return tmpl;
}

void writeFile(const std::string& path, const uint8_t* data, size_t size) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) std::abort();
  if (size && std::fwrite(data, 1, size, f) != size) std::abort();
  std::fclose(f);
  chmod(path.c_str(), 0600);
}

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void checkLines(std::string_view text, std::string_view header) {
  auto lines = parseKeyFileLines(text, header);
  if (!lines) return;
  std::set<std::string_view> keys;
  for (const auto& [key, value] : *lines) {
    if (key.empty() || !keys.insert(key).second) __builtin_trap();
    for (std::string_view v : {key, value})
      if (!v.empty() && (v.data() < text.data() || v.data() + v.size() > text.data() + text.size())) __builtin_trap();
  }
}

void checkIdentity(const std::string& dir) {
  auto id = Identity::load(dir + "/identity.key");
  if (!id) return;
  const std::string again_path = dir + "/again.key";
  if (!id->save(again_path, /*replace=*/true).isOk()) __builtin_trap();
  auto again = Identity::load(again_path);
  if (!again || again->privateKey() != id->privateKey() || again->name() != id->name() ||
      again->deviceId() != id->deviceId())
    __builtin_trap();
  const std::string first = readFile(again_path);
  if (!again->save(again_path, /*replace=*/true).isOk() || readFile(again_path) != first) __builtin_trap();
  std::remove(again_path.c_str());
}

void checkSecret(const std::string& dir, const std::string& out_dir) {
  auto secret = MeshSecret::load(dir);
  if (!secret) return;
  if (!secret->save(out_dir).isOk()) __builtin_trap();
  auto again = MeshSecret::load(out_dir);
  if (!again || !(*again == *secret)) __builtin_trap();
  auto via_invite = MeshSecret::fromInvite(secret->toInvite());
  if (!via_invite || !(*via_invite == *secret)) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string dir = makeDir(), out_dir = dir + "/saved";
  std::string_view text(reinterpret_cast<const char*>(data), size);
  checkLines(text, "meshslice-identity v1");
  checkLines(text, "meshslice-mesh v1");
  writeFile(dir + "/identity.key", data, size);
  writeFile(dir + "/mesh.key", data, size);
  checkIdentity(dir);
  checkSecret(dir, out_dir);
  return 0;
}
