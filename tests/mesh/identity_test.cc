#include "mesh/identity.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "mesh/key_file.h"
#include "tests/mesh/scoped_temp_dir.h"

namespace meshslice {
namespace {

// RFC 7748 section 6.1: Alice's X25519 key pair.
constexpr std::string_view kAlicePrivate =
    "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
constexpr std::string_view kAlicePublic =
    "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";

Key32 key32(std::string_view hex) {
  Bytes b;
  EXPECT_TRUE(fromHex(hex, b));
  Key32 k{};
  std::copy(b.begin(), b.end(), k.begin());
  return k;
}

mode_t modeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Writes `contents` with exactly `mode`.
void writeFile(const std::string& path, const std::string& contents, mode_t mode = 0600) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, mode);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, contents.data(), contents.size()), static_cast<ssize_t>(contents.size()));
  ::fchmod(fd, mode);
  ::close(fd);
}

const std::string kAliceFile = "meshslice-identity v1\nprivate " + std::string(kAlicePrivate) +
                               "\nname alice\n";

TEST(Identity, DerivesTheRfc7748PublicKeyAndDeviceId) {
  Identity id = Identity::fromPrivateKey(key32(kAlicePrivate), "alice");
  EXPECT_EQ(toHex(id.publicKey()), kAlicePublic);
  EXPECT_EQ(id.deviceId().toString(), "IGCUQB2HH-ELUVPRYTW-VM7ZSGO36-QNZA7JYOY");
  EXPECT_EQ(id.name(), "alice");
}

TEST(Identity, CreatesStateDirAndKeyFileWithPrivateModes) {
  ScopedTempDir tmp;
  std::string dir = tmp.file("state/nested");
  auto id = Identity::loadOrCreate(dir, "laptop");
  ASSERT_TRUE(id.isOk()) << id.status().toString();
  EXPECT_EQ(id->name(), "laptop");
  EXPECT_EQ(modeOf(dir), 0700u);
  EXPECT_EQ(modeOf(tmp.file("state")), 0700u);
  std::string path = dir + "/identity.key";
  EXPECT_EQ(modeOf(path), 0600u);
  std::string text = readFile(path);
  EXPECT_EQ(text.rfind("meshslice-identity v1\nprivate ", 0), 0u) << text;
  EXPECT_NE(text.find("\nname laptop\n"), std::string::npos);
  // Only the identity file is left: the temp file was moved into place.
  int entries = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator(dir)) ++entries;
  EXPECT_EQ(entries, 1);
}

TEST(Identity, LoadAfterCreateReturnsTheSameIdentity) {
  ScopedTempDir tmp;
  auto first = Identity::loadOrCreate(tmp.path(), "box");
  ASSERT_TRUE(first.isOk());
  auto second = Identity::loadOrCreate(tmp.path(), "other name is ignored");
  ASSERT_TRUE(second.isOk()) << second.status().toString();
  EXPECT_EQ(second->deviceId(), first->deviceId());
  EXPECT_EQ(second->publicKey(), first->publicKey());
  EXPECT_EQ(second->privateKey(), first->privateKey());
  EXPECT_EQ(second->name(), "box");
}

TEST(Identity, LoadsAHandWrittenFile) {
  ScopedTempDir tmp;
  writeFile(tmp.file("identity.key"), kAliceFile);
  auto id = Identity::loadOrCreate(tmp.path(), "unused");
  ASSERT_TRUE(id.isOk()) << id.status().toString();
  EXPECT_EQ(toHex(id->publicKey()), kAlicePublic);
  EXPECT_EQ(id->name(), "alice");
}

TEST(Identity, SavedFileLoadsBack) {
  ScopedTempDir tmp;
  Identity id = Identity::fromPrivateKey(key32(kAlicePrivate), "K\xc3\xbc" "che 2");
  ASSERT_TRUE(id.save(tmp.file("id.key"), false).isOk());
  EXPECT_EQ(readFile(tmp.file("id.key")),
            "meshslice-identity v1\nprivate " + std::string(kAlicePrivate) +
                "\nname K\xc3\xbc" "che 2\n");
  EXPECT_EQ(id.save(tmp.file("id.key"), false).code(), Code::kAlreadyExists);
  auto loaded = Identity::load(tmp.file("id.key"));
  ASSERT_TRUE(loaded.isOk());
  EXPECT_EQ(loaded->name(), id.name());
  EXPECT_EQ(loaded->deviceId(), id.deviceId());
}

TEST(Identity, RefusesAFileOthersCanAccess) {
  for (mode_t mode : {0644, 0640, 0604, 0660, 0602}) {
    ScopedTempDir tmp;
    std::string path = tmp.file("identity.key");
    writeFile(path, kAliceFile, mode);
    auto id = Identity::loadOrCreate(tmp.path(), "x");
    ASSERT_FALSE(id.isOk()) << std::oct << mode;
    EXPECT_EQ(id.status().code(), Code::kPermissionDenied);
    EXPECT_NE(id.status().message().find("chmod 600 " + path), std::string::npos)
        << id.status().message();
    EXPECT_EQ(readFile(path), kAliceFile);  // untouched
  }
}

TEST(Identity, RefusesCorruptFilesWithoutOverwritingThem) {
  const std::string priv(kAlicePrivate);
  const std::string cases[] = {
      "",
      "garbage",
      "meshslice-identity v2\nprivate " + priv + "\nname a\n",
      "meshslice-identity v1\nname a\n",
      "meshslice-identity v1\nprivate " + priv + "\n",
      "meshslice-identity v1\nprivate " + priv.substr(2) + "\nname a\n",  // 31 bytes
      "meshslice-identity v1\nprivate " + priv + "00\nname a\n",           // 33 bytes
      "meshslice-identity v1\nprivate " + priv.substr(1) + "x\nname a\n",  // not hex
      "meshslice-identity v1\nprivate " + priv + "\nname a\nprivate " + priv + "\n",
      "meshslice-identity v1\nprivate " + priv + "\nname a\ncolour blue\n",
      "meshslice-identity v1\nprivate " + priv + "\nname \xff\n",
      "meshslice-identity v1\nprivate " + priv + "\nname " + std::string(65, 'n') + "\n",
      std::string(5000, 'x'),
  };
  for (const std::string& contents : cases) {
    ScopedTempDir tmp;
    std::string path = tmp.file("identity.key");
    writeFile(path, contents);
    auto id = Identity::loadOrCreate(tmp.path(), "x");
    ASSERT_FALSE(id.isOk()) << contents;
    EXPECT_EQ(id.status().code(), Code::kMalformed) << id.status().toString();
    EXPECT_NE(id.status().message().find(path), std::string::npos) << id.status().message();
    EXPECT_EQ(readFile(path), contents);
  }
}

TEST(Identity, RefusesASymlinkOrDirectory) {
  ScopedTempDir tmp;
  writeFile(tmp.file("real.key"), kAliceFile);
  ASSERT_EQ(::symlink(tmp.file("real.key").c_str(), tmp.file("identity.key").c_str()), 0);
  EXPECT_FALSE(Identity::loadOrCreate(tmp.path(), "x").isOk());
  ScopedTempDir tmp2;
  ASSERT_EQ(::mkdir(tmp2.file("identity.key").c_str(), 0700), 0);
  EXPECT_FALSE(Identity::loadOrCreate(tmp2.path(), "x").isOk());
}

TEST(Identity, RejectsAnInvalidNewName) {
  ScopedTempDir tmp;
  auto id = Identity::loadOrCreate(tmp.path(), "bad\nname");
  EXPECT_EQ(id.status().code(), Code::kInvalidArgument);
  EXPECT_FALSE(std::filesystem::exists(tmp.file("identity.key")));
}

TEST(Identity, StateDirThatIsAFileIsAnError) {
  ScopedTempDir tmp;
  writeFile(tmp.file("plain"), "x");
  auto id = Identity::loadOrCreate(tmp.file("plain"), "x");
  EXPECT_FALSE(id.isOk());
}

TEST(Identity, MovedFromIdentityHasItsKeyWiped) {
  Identity a = Identity::fromPrivateKey(key32(kAlicePrivate), "a");
  Identity b = std::move(a);
  EXPECT_EQ(b.privateKey(), key32(kAlicePrivate));
  EXPECT_EQ(a.privateKey(), Key32{});  // NOLINT(bugprone-use-after-move): checking the wipe
}

TEST(Identity, GeneratedIdentitiesDiffer) {
  Identity a = Identity::generate("a");
  Identity b = Identity::generate("b");
  EXPECT_NE(a.deviceId(), b.deviceId());
}

}  // namespace
}  // namespace meshslice
