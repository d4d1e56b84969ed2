// The Noise known-answer vectors (issue 3: all 59 cacophony vectors of our suite must pass),
// run in-process through the same runner as the `noise_vectors` tool, and negative tests that
// show the runner and the tool notice a single changed ciphertext byte.
#include "transport/noise_vectors.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace meshslice::noise {
namespace {

using nlohmann::json;

constexpr size_t kCacophonyVectors = 59;

std::string vectorPath() { return std::string(MESHSLICE_TEST_DATA_DIR) + "/noise/cacophony-25519-chachapoly-blake2b.json"; }
std::string toolPath() { return std::string(MESHSLICE_BINARY_DIR) + "/tools/noise_vectors"; }

json loadVectors() {
  std::ifstream in(vectorPath());
  std::stringstream text;
  text << in.rdbuf();
  json doc = json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(doc.is_discarded()) << vectorPath();
  return doc;
}

// Flips the low bit of the first byte of messages[index].ciphertext of vector `v`.
void corruptCiphertext(json& v, size_t index) {
  std::string hex = v["messages"][index]["ciphertext"].get<std::string>();
  ASSERT_GE(hex.size(), 2u);
  const char* digits = "0123456789abcdef";
  size_t nibble = std::string(digits).find(static_cast<char>(std::tolower(hex[1])));
  ASSERT_NE(nibble, std::string::npos);
  hex[1] = digits[nibble ^ 1];
  v["messages"][index]["ciphertext"] = hex;
}

// A file in the test's temp dir, removed at scope exit.
struct TempFile {
  explicit TempFile(const std::string& text) {
    char name[] = "/tmp/noise_vectors_test_XXXXXX";
    int fd = mkstemp(name);
    EXPECT_GE(fd, 0);
    path = name;
    EXPECT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
    close(fd);
  }
  ~TempFile() { unlink(path.c_str()); }
  std::string path;
};

struct ToolRun {
  int exit_code = -1;
  std::string output;
  std::string lastLine() const {
    std::string s = output;
    while (!s.empty() && s.back() == '\n') s.pop_back();
    size_t nl = s.rfind('\n');
    return nl == std::string::npos ? s : s.substr(nl + 1);
  }
};

ToolRun runTool(const std::string& args) {
  ToolRun r;
  FILE* p = popen((toolPath() + " " + args + " 2>&1").c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

TEST(NoiseVectors, AllCacophonyVectorsOfOurSuitePass) {
  auto summary = runNoiseVectorFile(vectorPath());
  ASSERT_TRUE(summary.isOk()) << summary.status().toString();
  EXPECT_EQ(summary->passed, kCacophonyVectors);
  EXPECT_EQ(summary->failed, 0u);
  EXPECT_EQ(summary->skipped, 0u);
  for (const auto& f : summary->failures) ADD_FAILURE() << f;
  EXPECT_EQ(summary->line(), "59 passed, 0 failed");
  EXPECT_TRUE(summary->allPassed());
}

TEST(NoiseVectors, FileCoversEveryPatternFamily) {
  // The 59 vectors include one-way, interactive, deferred and psk patterns (issue 3).
  json doc = loadVectors();
  ASSERT_EQ(doc["vectors"].size(), kCacophonyVectors);
  int one_way = 0, deferred = 0, psk = 0;
  for (const json& v : doc["vectors"]) {
    std::string name = v["protocol_name"];
    std::string pattern = name.substr(6, name.find('_', 6) - 6);
    one_way += pattern == "N" || pattern == "K" || pattern == "X";
    deferred += pattern.find('1') != std::string::npos && pattern.find("psk") == std::string::npos;
    psk += pattern.find("psk") != std::string::npos;
  }
  EXPECT_EQ(one_way, 3);
  EXPECT_EQ(deferred, 23);
  EXPECT_EQ(psk, 21);
}

// A changed byte in a handshake message and in a transport message each fails exactly the
// vector it is in, naming the message; the rest still pass.
TEST(NoiseVectors, OneChangedCiphertextByteFailsThatVector) {
  json doc = loadVectors();
  ASSERT_EQ(doc["vectors"].size(), kCacophonyVectors);
  const size_t victim = 22;  // Noise_XXpsk3, our link protocol
  ASSERT_EQ(doc["vectors"][victim]["protocol_name"], "Noise_XXpsk3_25519_ChaChaPoly_BLAKE2b");
  const size_t last = doc["vectors"][victim]["messages"].size() - 1;
  for (size_t message : {size_t{0}, size_t{2}, last}) {
    json copy = doc;
    corruptCiphertext(copy["vectors"][victim], message);
    auto summary = runNoiseVectorsJson(copy.dump());
    ASSERT_TRUE(summary.isOk());
    EXPECT_EQ(summary->passed, kCacophonyVectors - 1) << message;
    EXPECT_EQ(summary->failed, 1u) << message;
    ASSERT_EQ(summary->failures.size(), 1u);
    EXPECT_NE(summary->failures[0].find("Noise_XXpsk3"), std::string::npos) << summary->failures[0];
    EXPECT_NE(summary->failures[0].find("message " + std::to_string(message) + " ciphertext"), std::string::npos)
        << summary->failures[0];
    EXPECT_FALSE(summary->allPassed());
  }
}

// The format makes handshake_hash optional (issue 14): a file without it still checks every
// message, and a hash that is present and wrong still fails.
TEST(NoiseVectors, HandshakeHashIsCheckedWhenPresentAndOptionalOtherwise) {
  json doc = loadVectors();
  ASSERT_EQ(doc["vectors"].size(), kCacophonyVectors);
  json without = doc;
  for (json& v : without["vectors"]) {
    ASSERT_TRUE(v.contains("handshake_hash"));
    v.erase("handshake_hash");
  }
  auto summary = runNoiseVectorsJson(without.dump());
  ASSERT_TRUE(summary.isOk());
  EXPECT_EQ(summary->line(), "59 passed, 0 failed");
  for (const auto& f : summary->failures) ADD_FAILURE() << f;

  // Messages are still all checked without the hash: a changed last transport message fails.
  const size_t victim = 22;
  json corrupt = without;
  corruptCiphertext(corrupt["vectors"][victim], corrupt["vectors"][victim]["messages"].size() - 1);
  auto caught = runNoiseVectorsJson(corrupt.dump());
  ASSERT_TRUE(caught.isOk());
  EXPECT_EQ(caught->failed, 1u);

  // A wrong hash that is present fails its vector.
  json wrong = doc;
  std::string hash = wrong["vectors"][victim]["handshake_hash"];
  hash[0] = hash[0] == '0' ? '1' : '0';
  wrong["vectors"][victim]["handshake_hash"] = hash;
  auto bad = runNoiseVectorsJson(wrong.dump());
  ASSERT_TRUE(bad.isOk());
  EXPECT_EQ(bad->failed, 1u);
  ASSERT_EQ(bad->failures.size(), 1u);
  EXPECT_NE(bad->failures[0].find("handshake_hash"), std::string::npos) << bad->failures[0];

  // And the tool takes such a file.
  TempFile file(without.dump(2));
  ToolRun r = runTool(file.path);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.lastLine(), "59 passed, 0 failed") << r.output;
}

TEST(NoiseVectors, MalformedInputIsAnErrorOrAFailureNeverACrash) {
  EXPECT_EQ(runNoiseVectorsJson("not json").status().code(), Code::kMalformed);
  EXPECT_EQ(runNoiseVectorsJson("[1, 2]").status().code(), Code::kMalformed);
  EXPECT_EQ(runNoiseVectorsJson(R"({"vectors": 3})").status().code(), Code::kMalformed);
  EXPECT_EQ(runNoiseVectorFile("/nonexistent/vectors.json").status().code(), Code::kIo);
  // Broken individual vectors fail alone.
  auto s = runNoiseVectorsJson(
      R"({"vectors": [3, {}, {"protocol_name": "Noise_XX_25519_ChaChaPoly_BLAKE2b"},
                      {"protocol_name": "Noise_ZZ_25519_ChaChaPoly_BLAKE2b", "messages": []}]})");
  ASSERT_TRUE(s.isOk());
  EXPECT_EQ(s->failed, 4u);
  EXPECT_EQ(s->passed, 0u);
  EXPECT_FALSE(s->allPassed());
  // Another suite is skipped and said so; nothing passed, so not "all passed".
  auto other = runNoiseVectorsJson(R"({"vectors": [{"protocol_name": "Noise_NN_448_AESGCM_SHA512"}]})");
  ASSERT_TRUE(other.isOk());
  EXPECT_EQ(other->skipped, 1u);
  EXPECT_EQ(other->line(), "0 passed, 0 failed, 1 skipped");
  EXPECT_FALSE(other->allPassed());
}

TEST(NoiseVectorsTool, PassesTheSharedFile) {
  ToolRun r = runTool(vectorPath());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.lastLine(), "59 passed, 0 failed") << r.output;
}

TEST(NoiseVectorsTool, ReportsAMutatedVectorAndExitsNonZero) {
  json doc = loadVectors();
  json one = json::object();
  one["vectors"] = json::array({doc["vectors"][0]});
  corruptCiphertext(one["vectors"][0], 1);
  TempFile mutated(one.dump(2));
  ToolRun r = runTool(mutated.path);
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.lastLine(), "0 passed, 1 failed") << r.output;
  EXPECT_NE(r.output.find("FAIL Noise_NN_25519_ChaChaPoly_BLAKE2b: message 1 ciphertext"), std::string::npos)
      << r.output;

  // Several files: totals over all of them, still non-zero on the one failure.
  ToolRun both = runTool(vectorPath() + " " + mutated.path);
  EXPECT_NE(both.exit_code, 0);
  EXPECT_EQ(both.lastLine(), "59 passed, 1 failed") << both.output;
}

TEST(NoiseVectorsTool, UnreadableOrMalformedFilesExitNonZero) {
  TempFile garbage("{\"vectors\": [");
  ToolRun r = runTool(garbage.path);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("not valid JSON"), std::string::npos) << r.output;
  ToolRun missing = runTool("/nonexistent/vectors.json");
  EXPECT_NE(missing.exit_code, 0);
  ToolRun none = runTool("");
  EXPECT_EQ(none.exit_code, 2) << "usage";
}

}  // namespace
}  // namespace meshslice::noise
