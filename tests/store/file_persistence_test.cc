#include "store/file_persistence.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sodium.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <random>

#include "mesh/protocol_constants.h"
#include "store/synced_store.h"
#include "tests/mesh/scoped_temp_dir.h"

namespace meshslice {
namespace {

DeviceId device(uint8_t seed) {
  DeviceId::Raw raw;
  raw.fill(seed);
  return DeviceId(raw);
}

// A slice whose data is a pure function of its version, so a reader can tell a torn one.
DeviceSlice sliceFor(uint64_t version, size_t size) {
  DeviceSlice s{device(1), version, 1'700'000'000'000 + static_cast<int64_t>(version), Bytes(size)};
  for (size_t i = 0; i < size; ++i) s.data[i] = static_cast<uint8_t>((version * 131 + i * 7) & 0xff);
  return s;
}
bool isIntact(const DeviceSlice& s) {
  return s == sliceFor(s.version, s.data.size());
}

Bytes readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}
void writeFile(const std::string& path, ByteView bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

TEST(FilePersistence, MissingFileLoadsAsNothingSaved) {
  ScopedTempDir dir;
  FilePersistence p(dir.file("pos.slice"), "pos");
  auto loaded = p.load();
  ASSERT_TRUE(loaded.isOk()) << loaded.status().toString();
  EXPECT_FALSE(loaded->has_value());
}

TEST(FilePersistence, SaveThenLoadRoundTripsWithMode0600) {
  ScopedTempDir dir;
  FilePersistence p(dir.file("pos.slice"), "pos");
  for (size_t size : {size_t{0}, size_t{1}, size_t{70'000}, kMaxSliceData}) {
    const DeviceSlice s = sliceFor(42 + size, size);
    ASSERT_TRUE(p.save(s).isOk());
    auto loaded = p.load();
    ASSERT_TRUE(loaded.isOk()) << loaded.status().toString();
    ASSERT_TRUE(loaded->has_value());
    EXPECT_EQ(**loaded, s);
  }
  struct stat st;
  ASSERT_EQ(::stat(p.path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_NE(::access((p.path() + ".tmp").c_str(), F_OK), 0) << "no temp file left behind";
}

TEST(FilePersistence, EncodingIsTheDocumentedLayout) {
  DeviceSlice s{device(0xab), 1, -1, {0x01, 0x02}};
  Bytes f = encodeSliceFile("s", s);
  ASSERT_EQ(f.size(), kSliceFileHeaderSize + 31 + kSliceFileChecksumSize);
  EXPECT_EQ(toString(ByteView(f).first(8)), std::string("MSSLICE\x01", 8));
  EXPECT_EQ(toHex(ByteView(f).subspan(8, 4)), "0000001f");
  // [ "s", bin(20), 1, -1, bin(2) ]
  EXPECT_EQ(toHex(ByteView(f).subspan(12, 31)),
            "95a173c414" + toHex(device(0xab).view()) +
                "01ffc4020102");
  uint8_t sum[kSliceFileChecksumSize];
  crypto_generichash(sum, sizeof sum, f.data(), f.size() - sizeof sum, nullptr, 0);
  EXPECT_EQ(toHex(ByteView(f).last(32)), toHex(sum));
}

TEST(FilePersistence, EveryFlippedBitIsDetected) {
  const Bytes good = encodeSliceFile("pos", sliceFor(7, 100));
  ASSERT_TRUE(decodeSliceFile(good, "pos").isOk());
  for (size_t i = 0; i < good.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      Bytes bad = good;
      bad[i] ^= static_cast<uint8_t>(1 << bit);
      auto r = decodeSliceFile(bad, "pos");
      ASSERT_FALSE(r.isOk()) << "byte " << i << " bit " << bit;
      EXPECT_TRUE(r.status().code() == Code::kMalformed || r.status().code() == Code::kIncompatible)
          << r.status().toString();
    }
  }
}

TEST(FilePersistence, EveryTruncationIsDetected) {
  const Bytes good = encodeSliceFile("pos", sliceFor(7, 300));
  for (size_t len = 0; len < good.size(); ++len) {
    auto r = decodeSliceFile(ByteView(good).first(len), "pos");
    ASSERT_FALSE(r.isOk()) << len;
    EXPECT_EQ(r.status().code(), Code::kMalformed) << len;
  }
  Bytes longer = good;
  longer.push_back(0);
  EXPECT_EQ(decodeSliceFile(longer, "pos").status().code(), Code::kMalformed);
}

TEST(FilePersistence, CorruptFileOnDiskIsAClearErrorAndTheStoreRefusesToStart) {
  ScopedTempDir dir;
  const std::string path = dir.file("pos.slice");
  auto p = std::make_shared<FilePersistence>(path, "pos");
  ASSERT_TRUE(p->save(sliceFor(5, 64)).isOk());
  Bytes f = readFile(path);
  f[20] ^= 0x40;
  writeFile(path, f);
  auto loaded = p->load();
  ASSERT_FALSE(loaded.isOk());
  EXPECT_EQ(loaded.status().code(), Code::kMalformed);
  EXPECT_NE(loaded.status().message().find("checksum"), std::string::npos) << loaded.status().message();
  EXPECT_NE(loaded.status().message().find(path), std::string::npos);
  StoreOptions o;
  o.persistence = p;
  EXPECT_EQ(RawStore::open("pos", device(1), o).status().code(), Code::kMalformed);
}

TEST(FilePersistence, FileOfAnotherStoreIsRefused) {
  ScopedTempDir dir;
  const std::string path = dir.file("x.slice");
  ASSERT_TRUE(FilePersistence(path, "alpha").save(sliceFor(1, 8)).isOk());
  auto r = FilePersistence(path, "beta").load();
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_NE(r.status().message().find("alpha"), std::string::npos);
}

TEST(FilePersistence, NewerFormatAndForeignFilesAreRefused) {
  Bytes f = encodeSliceFile("pos", sliceFor(1, 8));
  f[7] = 2;
  EXPECT_EQ(decodeSliceFile(f, "pos").status().code(), Code::kIncompatible);
  EXPECT_EQ(decodeSliceFile(toBytes("{\"json\": \"file\"} and some more text here to be long"), "pos")
                .status().code(), Code::kMalformed);
  EXPECT_EQ(decodeSliceFile(Bytes(maxSliceFileSize() + 1), "pos").status().code(), Code::kTooLarge);
}

TEST(FilePersistence, ChecksummedButMalformedBodyIsRefused) {
  // A body that is valid framing and checksum but not a slice (as a buggy writer might make).
  Bytes f(kSliceFileHeaderSize);
  std::memcpy(f.data(), kSliceFileMagic.data(), kSliceFileMagic.size());
  f[7] = kSliceFileFormat;
  const Bytes body = {0x92, 0x01, 0x02};
  putU32(f.data() + 8, static_cast<uint32_t>(body.size()));
  f.insert(f.end(), body.begin(), body.end());
  uint8_t sum[kSliceFileChecksumSize];
  crypto_generichash(sum, sizeof sum, f.data(), f.size(), nullptr, 0);
  f.insert(f.end(), sum, sum + sizeof sum);
  auto r = decodeSliceFile(f, "pos");
  EXPECT_EQ(r.status().code(), Code::kMalformed) << r.status().toString();
}

TEST(FilePersistence, LeftoverTempFileFromACrashIsHarmless) {
  ScopedTempDir dir;
  FilePersistence p(dir.file("pos.slice"), "pos");
  ASSERT_TRUE(p.save(sliceFor(1, 10)).isOk());
  writeFile(p.path() + ".tmp", toBytes("half a fi"));
  EXPECT_EQ(p.load()->value(), sliceFor(1, 10));
  ASSERT_TRUE(p.save(sliceFor(2, 10)).isOk());
  EXPECT_EQ(p.load()->value(), sliceFor(2, 10));
}

TEST(FilePersistence, StoreContinuesFromTheFileAfterARestart) {
  ScopedTempDir dir;
  StoreOptions o;
  o.persistence = std::make_shared<FilePersistence>(dir.file("pos.slice"), "pos");
  o.wall_clock = [] { return int64_t{1'000}; };
  uint64_t version = 0;
  {
    auto s = RawStore::open("pos", device(1), o).value();
    ASSERT_TRUE(s->set(toBytes("one")).isOk());
    ASSERT_TRUE(s->set(toBytes("two")).isOk());
    version = s->localSlice().version;
  }
  auto s = RawStore::open("pos", device(1), o).value();
  EXPECT_EQ(s->local(), toBytes("two"));
  EXPECT_EQ(s->localSlice().version, version);
}

// The crash guarantee, for real: a child process saves in a tight loop and is killed with
// SIGKILL at random moments; after each kill the file holds an intact old or new slice.
TEST(FilePersistence, KillNineDuringSavesLeavesTheOldOrTheNewSlice) {
  ScopedTempDir dir;
  const std::string path = dir.file("crash.slice");
  constexpr int kRounds = 30;
  constexpr uint64_t kSavesPerChild = 2000;
  std::mt19937_64 rng(12345);
  uint64_t last_version = 0;
  ASSERT_TRUE(FilePersistence(path, "crash").save(sliceFor(1, 10)).isOk());
  int killed_mid_run = 0;
  for (int round = 0; round < kRounds; ++round) {
    auto before = FilePersistence(path, "crash").load();
    ASSERT_TRUE(before.isOk() && before->has_value());
    const uint64_t start = (*before)->version;
    int ready[2];
    ASSERT_EQ(::pipe(ready), 0);
    const uint64_t sizes_seed = rng();
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(ready[0]);
      FilePersistence p(path, "crash");
      std::mt19937_64 child_rng(sizes_seed);
      for (uint64_t i = 1; i <= kSavesPerChild; ++i) {
        // Sizes up to 256 KiB: many write() calls' worth for a torn write to show.
        if (!p.save(sliceFor(start + i, child_rng() % (256 * 1024))).isOk()) ::_exit(2);
        if (i == 3) {
          char c = 1;
          if (::write(ready[1], &c, 1) != 1) ::_exit(3);
        }
      }
      ::_exit(0);
    }
    ::close(ready[1]);
    char c;
    ASSERT_EQ(::read(ready[0], &c, 1), 1);  // a few saves done: now kill at a random moment
    ::close(ready[0]);
    // Kills land anywhere in a save: random busy-wait of up to 3 ms (a save takes ~1 ms).
    std::uniform_int_distribution<int> delay_us(0, 3000);
    const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(delay_us(rng));
    while (std::chrono::steady_clock::now() < until) {
    }
    ::kill(pid, SIGKILL);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    if (WIFSIGNALED(status)) ++killed_mid_run;
    auto after = FilePersistence(path, "crash").load();
    ASSERT_TRUE(after.isOk()) << "round " << round << ": " << after.status().toString();
    ASSERT_TRUE(after->has_value());
    EXPECT_TRUE(isIntact(**after)) << "round " << round;
    EXPECT_GE((*after)->version, start);
    EXPECT_GE((*after)->version, last_version);
    last_version = (*after)->version;
  }
  EXPECT_GT(killed_mid_run, kRounds / 2) << "the kills should land while the child is saving";
  RecordProperty("killed_mid_run", killed_mid_run);
  RecordProperty("final_version", std::to_string(last_version));
}

}  // namespace
}  // namespace meshslice
