#include "mesh/mesh_secret.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/mesh/scoped_temp_dir.h"

namespace meshslice {
namespace {

MeshSecret countingSecret() {
  Key32 k;
  for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<uint8_t>(i);
  return MeshSecret::fromBytes(k);
}

// Computed independently in Python 3 for the secret 00 01 02 ... 1f:
//   hashlib.blake2b(b"meshslice-mesh-tag-v1", digest_size=32, key=secret).digest()[:8].hex()
//   hashlib.blake2b(b"meshslice-noise-psk-v1", digest_size=32, key=secret).hexdigest()
//   "msm1-" + base64.b32encode(secret + hashlib.blake2b(secret, digest_size=4).digest())
//             .decode().rstrip("=").lower()
constexpr std::string_view kCountingTag = "86b2b6225dc6d9b1";
constexpr std::string_view kCountingPsk =
    "999467382efb9d98f1723eda014465614f43cb036d8ea061dd6d9d190cfae549";
constexpr std::string_view kCountingInvite =
    "msm1-aaaqeayeaudaocajbifqydiob4ibceqtcqkrmfyydenbwha5dyptoikokm";

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

TEST(MeshSecret, DerivesTagPskAndInviteAsDocumented) {
  MeshSecret s = countingSecret();
  EXPECT_EQ(s.tag(), kCountingTag);
  EXPECT_EQ(toHex(s.psk()), kCountingPsk);
  EXPECT_EQ(s.toInvite(), kCountingInvite);
  EXPECT_EQ(s.toInvite(InviteFormat::kGrouped),
            "msm1-aaaqeaye-audaocaj-bifqydio-b4ibceqt-cqkrmfyy-denbwha5-dyptoiko-km");
}

TEST(MeshSecret, InviteRoundTrips) {
  for (int i = 0; i < 50; ++i) {
    MeshSecret s = MeshSecret::generate();
    for (InviteFormat f : {InviteFormat::kCompact, InviteFormat::kGrouped}) {
      auto back = MeshSecret::fromInvite(s.toInvite(f));
      ASSERT_TRUE(back.isOk()) << back.status().toString();
      EXPECT_TRUE(*back == s);
    }
  }
}

TEST(MeshSecret, InviteParsingToleratesCaseDashesAndSpaces) {
  std::string spaced(kCountingInvite);
  spaced.insert(20, " ");
  spaced.insert(10, "--");
  for (const std::string& text :
       {upper(std::string(kCountingInvite)), spaced, "  " + std::string(kCountingInvite) + "\n",
        countingSecret().toInvite(InviteFormat::kGrouped)}) {
    auto s = MeshSecret::fromInvite(text);
    ASSERT_TRUE(s.isOk()) << text << ": " << s.status().toString();
    EXPECT_TRUE(*s == countingSecret());
  }
}

TEST(MeshSecret, InviteErrorsAreDistinct) {
  std::string invite(kCountingInvite);
  auto prefix = MeshSecret::fromInvite("msx1-" + invite.substr(5));
  EXPECT_NE(prefix.status().message().find("must start with 'msm1-'"), std::string::npos);
  auto length = MeshSecret::fromInvite(invite.substr(0, invite.size() - 1));
  EXPECT_NE(length.status().message().find("expected 58"), std::string::npos)
      << length.status().message();
  std::string typo = invite;
  typo[10] = typo[10] == 'a' ? 'b' : 'a';
  auto checksum = MeshSecret::fromInvite(typo);
  EXPECT_NE(checksum.status().message().find("checksum"), std::string::npos);
  std::string bad = invite;
  bad[10] = '0';
  auto character = MeshSecret::fromInvite(bad);
  EXPECT_NE(character.status().message().find("invalid character"), std::string::npos);
  for (const auto* r : {&prefix, &length, &checksum, &character}) {
    EXPECT_EQ(r->status().code(), Code::kInvalidArgument);
  }
  EXPECT_FALSE(MeshSecret::fromInvite("").isOk());
  EXPECT_FALSE(MeshSecret::fromInvite(std::string(10000, 'a')).isOk());
}

TEST(MeshSecret, EverySingleCharacterTypoInAnInviteIsDetected) {
  for (InviteFormat f : {InviteFormat::kCompact, InviteFormat::kGrouped}) {
    const std::string valid = countingSecret().toInvite(f);
    const std::string candidates = "abcdefghijklmnopqrstuvwxyz2345670189";
    int checked = 0;
    for (size_t pos = 0; pos < valid.size(); ++pos) {
      for (char c : candidates) {
        if (c == valid[pos]) continue;
        std::string typo = valid;
        typo[pos] = c;
        EXPECT_FALSE(MeshSecret::fromInvite(typo).isOk()) << "typo not detected: " << typo;
        ++checked;
      }
    }
    EXPECT_GT(checked, 2000);
  }
}

TEST(MeshSecret, TagsAreStableAndDifferPerSecret) {
  MeshSecret a = MeshSecret::generate();
  MeshSecret b = MeshSecret::generate();
  EXPECT_EQ(a.tag(), a.tag());
  EXPECT_EQ(a.tag().size(), 16u);
  EXPECT_NE(a.tag(), b.tag());
  EXPECT_NE(a.psk(), b.psk());
  EXPECT_NE(toHex(a.psk()), toHex(a.bytes()));  // the PSK is derived, not the raw secret
  EXPECT_FALSE(a == b);
}

mode_t modeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0);
  return st.st_mode & 07777;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(MeshSecret, SaveWritesAPrivateFileThatLoadsBack) {
  ScopedTempDir tmp;
  std::string dir = tmp.file("state");
  ASSERT_TRUE(countingSecret().save(dir).isOk());
  EXPECT_EQ(modeOf(dir), 0700u);
  EXPECT_EQ(modeOf(dir + "/mesh.key"), 0600u);
  EXPECT_EQ(readFile(dir + "/mesh.key"),
            "meshslice-mesh v1\nsecret "
            "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n");
  auto loaded = MeshSecret::load(dir);
  ASSERT_TRUE(loaded.isOk()) << loaded.status().toString();
  EXPECT_TRUE(*loaded == countingSecret());
  // save() replaces atomically.
  MeshSecret other = MeshSecret::generate();
  ASSERT_TRUE(other.save(dir).isOk());
  EXPECT_TRUE(*MeshSecret::load(dir) == other);
}

TEST(MeshSecret, LoadOrCreateCreatesOnceThenLoads) {
  ScopedTempDir tmp;
  EXPECT_EQ(MeshSecret::load(tmp.path()).status().code(), Code::kNotFound);
  auto first = MeshSecret::loadOrCreate(tmp.path());
  ASSERT_TRUE(first.isOk());
  auto second = MeshSecret::loadOrCreate(tmp.path());
  ASSERT_TRUE(second.isOk());
  EXPECT_TRUE(*first == *second);
}

TEST(MeshSecret, RefusesLaxModesAndCorruptFiles) {
  ScopedTempDir tmp;
  ASSERT_TRUE(countingSecret().save(tmp.path()).isOk());
  std::string path = tmp.file("mesh.key");
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  auto lax = MeshSecret::loadOrCreate(tmp.path());
  EXPECT_EQ(lax.status().code(), Code::kPermissionDenied);
  EXPECT_NE(lax.status().message().find("chmod 600 " + path), std::string::npos);

  for (std::string contents : {"meshslice-mesh v1\n", "meshslice-mesh v1\nsecret 00\n",
                               "meshslice-identity v1\nsecret 00\n",
                               "meshslice-mesh v1\nsecret "
                               "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
                               "\nextra 1\n"}) {
    int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::write(fd, contents.data(), contents.size()),
              static_cast<ssize_t>(contents.size()));
    ::fchmod(fd, 0600);
    ::close(fd);
    auto r = MeshSecret::loadOrCreate(tmp.path());
    EXPECT_EQ(r.status().code(), Code::kMalformed) << contents;
    EXPECT_EQ(readFile(path), contents);
  }
}

}  // namespace
}  // namespace meshslice
