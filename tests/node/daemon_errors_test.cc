// Error paths of the real binary: each gets one clear line on stderr, a documented exit code,
// and leaves what is on disk as it was.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "node/exit_codes.h"
#include "tests/node/daemon_fixture.h"
#include "tests/node/raw_socket.h"

namespace meshslice {
namespace {

using test::eventually;
using test::lineCount;
using test::readFile;
using test::rpcCall;
using test::run;
using test::startDaemon;

void writeFile(const std::string& path, const std::string& contents, mode_t mode = 0600) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << contents;
  ::chmod(path.c_str(), mode);
}

TEST(DaemonErrors, UsageErrorsExitWithTwoAndOneLine) {
  ScopedTempDir root;
  for (std::vector<std::string> args : {std::vector<std::string>{"frobnicate"}, {"status", "--colour"}, {"get"},
                                        {"up", "--listen", "nowhere"}, {}}) {
    auto r = run(args, root.path());
    EXPECT_EQ(r.code, kExitUsage) << r.err;
    EXPECT_EQ(lineCount(r.err), 1u) << r.err;
    EXPECT_TRUE(r.out.empty());
  }
  EXPECT_EQ(run({"--help"}, root.path()).code, 0);
  auto version = run({"--version"}, root.path());
  EXPECT_EQ(version.code, 0);
  EXPECT_THAT(version.out, ::testing::MatchesRegex("meshslice [0-9]+\\.[0-9]+\\.[0-9]+\n"));
}

TEST(DaemonErrors, ClientCommandsWithoutADaemonExitWithThree) {
  ScopedTempDir root;
  for (const char* cmd : {"status", "peers", "watch", "down"}) {
    auto r = run({cmd, "--state-dir", root.file("none")}, root.path());
    EXPECT_EQ(r.code, kExitNoDaemon) << cmd;
    EXPECT_EQ(r.err, "meshslice: no meshslice daemon is running on " + root.file("none") +
                         " (start one with `meshslice up`)\n");
  }
}

// Input is checked before any daemon is asked: the same exit 2 and message with or without one.
TEST(DaemonErrors, InputErrorsExitWithTwoWhetherADaemonRunsOrNot) {
  ScopedTempDir root;
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"get", "bad store!"}, "store ID has an invalid character"},
      {{"get", "notes", "not-a-device"}, "bad device ID"},
      {{"set", "bad store!", "1"}, "store ID has an invalid character"},
      {{"set", "notes", "@/nonexistent"}, "cannot read /nonexistent: No such file or directory"},
      {{"set", "notes", "{bad"}, "malformed JSON value"},
      {{"rm", "bad store!"}, "store ID has an invalid character"}};
  auto check = [&](const std::string& dir, const char* when) {
    for (const auto& [args, words] : cases) {
      std::vector<std::string> all = args;
      all.insert(all.end(), {"--state-dir", dir});
      auto r = run(all, root.path());
      EXPECT_EQ(r.code, kExitUsage) << when << ": " << args[0] << " " << args[1] << ": " << r.err;
      EXPECT_NE(r.err.find(words), std::string::npos) << when << ": " << r.err;
      EXPECT_EQ(lineCount(r.err), 1u) << r.err;
    }
  };
  check(root.file("none"), "no daemon");
  auto d = startDaemon(root.file("d"));
  ASSERT_TRUE(d);
  check(d->dir, "a daemon");
  EXPECT_EQ(run({"down", "--state-dir", d->dir}, root.path()).code, 0);
}

TEST(DaemonErrors, ASecondDaemonOnTheSameStateDirExitsWithFour) {
  ScopedTempDir root;
  auto a = startDaemon(root.file("a"));
  ASSERT_TRUE(a);
  auto second = run({"up", "--state-dir", a->dir, "--no-mdns", "--listen", "127.0.0.1:0"}, root.path());
  EXPECT_EQ(second.code, kExitAlreadyRunning);
  EXPECT_NE(second.err.find("another meshslice daemon is running on " + a->dir), std::string::npos) << second.err;
  EXPECT_EQ(lineCount(second.err), 1u) << second.err;
  EXPECT_TRUE(rpcCall(a->dir, "status").isOk()) << "the first daemon and its socket are untouched";
  EXPECT_EQ(run({"down", "--state-dir", a->dir}, root.path()).code, 0);
}

// The names and contents of the regular files under `dir` (one level), to show nothing changed.
std::map<std::string, std::string> snapshot(const std::string& dir) {
  std::map<std::string, std::string> files;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    files[e.path().filename().string()] = e.is_regular_file() ? readFile(e.path().string()) : "<dir>";
  return files;
}

// In the forked child before exec: a private mount namespace in which `dir` is a read-only
// bind mount of itself, so even root cannot write there (and nothing outside changes).
bool enterReadOnlyMount(void* arg) {
  const char* dir = static_cast<const char*>(arg);
  return ::unshare(CLONE_NEWNS) == 0 && ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0 &&
         ::mount(dir, dir, nullptr, MS_BIND, nullptr) == 0 &&
         ::mount(nullptr, dir, nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) == 0;
}

TEST(DaemonErrors, AnUnusableStateDirExitsWithOne) {
  ScopedTempDir root;
  writeFile(root.file("file"), "x");
  auto r = run({"up", "--state-dir", root.file("file") + "/state", "--no-mdns", "--listen", "127.0.0.1:0"}, root.path());
  EXPECT_EQ(r.code, kExitError);
  EXPECT_NE(r.err.find("state directory"), std::string::npos) << r.err;
  EXPECT_EQ(lineCount(r.err), 1u) << r.err;
}

TEST(DaemonErrors, AnUnwritableStateDirExitsWithOneAndLosesNothing) {
  ScopedTempDir root;
  std::string dir = root.file("ro");
  ASSERT_EQ(run({"id", "--state-dir", dir}, root.path()).code, 0) << "an existing identity to keep";
  const auto before = snapshot(dir);
  ASSERT_EQ(before.count("identity.key"), 1u);
  std::vector<std::string> up = {"up", "--state-dir", dir, "--no-mdns", "--listen", "127.0.0.1:0"};
  test::RunResult denied;
  if (::geteuid() == 0) {
    // Root ignores directory modes: make the directory read-only for real, in a mount
    // namespace of the child's own.
    denied = run(up, root.path(), "", 20000, enterReadOnlyMount, const_cast<char*>(dir.c_str()));
    if (denied.code == 126) GTEST_SKIP() << "cannot create a mount namespace here (no CAP_SYS_ADMIN)";
  } else {
    ASSERT_EQ(::chmod(dir.c_str(), 0500), 0);
    denied = run(up, root.path());
    ::chmod(dir.c_str(), 0700);
  }
  EXPECT_EQ(denied.code, kExitError) << denied.err;
  EXPECT_EQ(lineCount(denied.err), 1u) << denied.err;
  EXPECT_EQ(denied.err.rfind("meshslice: state directory " + dir + " is not writable", 0), 0u) << denied.err;
  EXPECT_TRUE(denied.out.empty()) << denied.out;
  EXPECT_EQ(snapshot(dir), before) << "nothing in the state directory changed";
}

// A first start that fails creates no identity and no mesh, whatever made it fail.
TEST(DaemonErrors, AFailedFirstStartCreatesNoIdentityAndNoMesh) {
  ScopedTempDir root;
  std::string corrupt = root.file("corrupt");
  ASSERT_EQ(::mkdir(corrupt.c_str(), 0700), 0);
  writeFile(corrupt + "/mesh.key", "meshslice-mesh v1\nsecret 12\n");
  auto r = run({"up", "--state-dir", corrupt, "--no-mdns", "--listen", "127.0.0.1:0"}, root.path());
  EXPECT_EQ(r.code, kExitError) << r.err;
  EXPECT_EQ(lineCount(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find("mesh.key"), std::string::npos) << r.err;
  EXPECT_NE(::access((corrupt + "/identity.key").c_str(), F_OK), 0) << "no identity was created";
  EXPECT_EQ(readFile(corrupt + "/mesh.key"), "meshslice-mesh v1\nsecret 12\n") << "the corrupt key is untouched";

  // A listen address in use: the node itself cannot start.
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  std::string busy = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  std::string fresh = root.file("fresh");
  auto taken = run({"up", "--state-dir", fresh, "--no-mdns", "--listen", busy}, root.path());
  ::close(fd);
  EXPECT_EQ(taken.code, kExitError) << taken.err;
  EXPECT_NE(taken.err.find("cannot start the node"), std::string::npos) << taken.err;
  EXPECT_EQ(lineCount(taken.err), 1u) << taken.err;
  auto left = snapshot(fresh);
  EXPECT_EQ(left.count("identity.key"), 0u);
  EXPECT_EQ(left.count("mesh.key"), 0u);
  // The next start creates both, and keeps them.
  auto d = startDaemon(fresh);
  ASSERT_TRUE(d);
  EXPECT_FALSE(d->invite.empty());
  EXPECT_EQ(run({"down", "--state-dir", fresh}, root.path()).code, 0);
  EXPECT_EQ(run({"id", "--state-dir", fresh}, root.path()).out, d->device + "\n");
  EXPECT_EQ(run({"mesh", "invite", "--state-dir", fresh}, root.path()).out, d->invite + "\n");
}

TEST(DaemonErrors, CorruptKeyConfigAndSliceFilesAreRefusedAndLeftAsTheyWere) {
  ScopedTempDir root;
  struct Case {
    std::string file, contents, expect;
    int code;
  };
  std::vector<Case> cases = {
      {"identity.key", "meshslice-identity v1\nprivate nothex\n", "identity", kExitError},
      {"mesh.key", "garbage\n", "mesh", kExitError},
      {"meshslice.conf", "colour = blue\n", "line 1: unknown key 'colour'", kExitUsage},
      {"allow.list", "NOT-A-DEVICE\n", "allow-list", kExitError},
      {"stores/cfg.slice", "MSSLICE\x01 torn", "cfg", kExitError},
  };
  for (const auto& c : cases) {
    std::string dir = root.file("case-" + std::to_string(&c - &cases[0]));
    ASSERT_EQ(::mkdir(dir.c_str(), 0700), 0);
    ::mkdir((dir + "/stores").c_str(), 0700);
    writeFile(dir + "/" + c.file, c.contents);
    auto r = run({"up", "--state-dir", dir, "--no-mdns", "--listen", "127.0.0.1:0"}, root.path());
    EXPECT_EQ(r.code, c.code) << c.file << ": " << r.err;
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << c.file << ": " << r.err;
    EXPECT_EQ(lineCount(r.err), 1u) << c.file << ": " << r.err;
    EXPECT_EQ(readFile(dir + "/" + c.file), c.contents) << c.file << " was changed";
    EXPECT_FALSE(DaemonLock::isHeld(dir));
  }
}

TEST(DaemonErrors, BadValuesAreRefusedAndTheStoredSliceIsKept) {
  ScopedTempDir root;
  auto d = startDaemon(root.file("d"));
  ASSERT_TRUE(d);
  const std::string& dir = d->dir;
  ASSERT_EQ(run({"set", "cfg", R"({"ok":true})", "--state-dir", dir}, root.path()).code, 0);
  writeFile(root.file("big.json"), "\"" + std::string(kMaxSliceData, 'x') + "\"");  // valid, 2 bytes over
  struct Case {
    std::vector<std::string> args;
    int code;
    std::string expect;
  };
  std::vector<Case> cases = {
      {{"set", "cfg", "{\"a\":"}, kExitUsage, "malformed JSON"},
      {{"set", "cfg", std::string(100, '[') + std::string(100, ']')}, kExitUsage, "nested deeper"},
      {{"set", "cfg", "@" + root.file("big.json")}, kExitUsage, "slice limit"},
      {{"set", "cfg", "@" + root.file("missing.json")}, kExitUsage, "cannot read " + root.file("missing.json") + ": No such file or directory"},
      {{"set", "bad store", "1"}, kExitUsage, "store"},
      {{"get", "bad store!"}, kExitUsage, "store"},
      {{"rm", "bad store!"}, kExitUsage, "store"},
      {{"rm", "nosuch"}, kExitError, "no store 'nosuch'"},
      {{"get", "nosuch"}, kExitError, "no store 'nosuch'"},
      {{"get", "cfg", "NOT-AN-ID"}, kExitUsage, "device"},
      {{"publish", "ms.sync", "x"}, kExitUsage, "reserved"},
  };
  for (auto& c : cases) {
    c.args.insert(c.args.end(), {"--state-dir", dir});
    auto r = run(c.args, root.path());
    EXPECT_EQ(r.code, c.code) << c.args[0] << " " << c.args[1] << ": " << r.err;
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << r.err;
    EXPECT_EQ(lineCount(r.err), 1u) << r.err;
  }
  EXPECT_EQ(run({"get", "cfg", d->device, "--state-dir", dir}, root.path()).out, "{\"ok\":true}\n");
  EXPECT_EQ(run({"down", "--state-dir", dir}, root.path()).code, 0);
}

TEST(ControlProtocol, TheDaemonAnswersJsonRpcErrorsBatchesAndNotifications) {
  ScopedTempDir root;
  auto d = startDaemon(root.file("d"));
  ASSERT_TRUE(d);
  struct stat st;
  ASSERT_EQ(::stat(d->control.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  RawSocket s(d->control);
  ASSERT_TRUE(s.connected());
  auto reply = [&](const std::string& line) {
    s.write(line + "\n");
    auto j = parseJson(s.line());
    return j ? *j : Json();
  };
  EXPECT_EQ(reply("{oops")["error"]["code"], rpc::kParseError);
  EXPECT_EQ(reply(R"({"jsonrpc":"2.0","id":1,"method":"nope"})")["error"]["code"], rpc::kMethodNotFound);
  EXPECT_EQ(reply(R"({"jsonrpc":"2.0","id":2,"method":"get","params":{"store":5}})")["error"]["code"], rpc::kInvalidParams);
  EXPECT_EQ(reply(R"({"jsonrpc":"1.0","id":3,"method":"status"})")["error"]["code"], rpc::kInvalidRequest);
  EXPECT_EQ(reply(R"([])")["error"]["code"], rpc::kInvalidRequest);
  Json batch = reply(R"([{"jsonrpc":"2.0","id":"x","method":"status"},{"jsonrpc":"2.0","method":"status"},5])");
  ASSERT_TRUE(batch.is_array());
  ASSERT_EQ(batch.size(), 2u) << "the notification gets no reply";
  EXPECT_EQ(batch[0]["result"]["device"], d->device);
  EXPECT_EQ(batch[1]["error"]["code"], rpc::kInvalidRequest);
  // A notification alone gets no reply: the next reply is for the next request.
  s.write(R"({"jsonrpc":"2.0","method":"status"})" "\n");
  EXPECT_EQ(reply(R"({"jsonrpc":"2.0","id":9,"method":"peers"})")["id"], 9);
  // An over-long line closes that connection only.
  s.write(std::string(3 * 1024 * 1024, ' ') + "x");
  EXPECT_NE(s.line().find("longer than"), std::string::npos);
  EXPECT_EQ(s.line(), "<eof>");
  ASSERT_TRUE(rpcCall(d->dir, "status").isOk());
  EXPECT_TRUE(rpcCall(d->dir, "down").isOk());
  EXPECT_EQ(d->child->wait(), 0);
  EXPECT_NE(::access(d->control.c_str(), F_OK), 0) << "the socket file is removed on exit";
}

// The daemon's own size check, with valid JSON sent straight to the socket (the CLI checks
// sizes before sending, so only a raw client reaches this path).
TEST(ControlProtocol, SetOfAValueJustOverTheLimitIsRefusedAndJustUnderIsStored) {
  ScopedTempDir root;
  auto d = startDaemon(root.file("d"));
  ASSERT_TRUE(d);
  RawSocket s(d->control);
  ASSERT_TRUE(s.connected());
  auto call = [&](int id, const std::string& method, const std::string& params) {
    s.write(R"({"jsonrpc":"2.0","id":)" + std::to_string(id) + R"(,"method":")" + method + R"(","params":)" + params + "}\n");
    auto j = parseJson(s.line(10000), kMaxReplyDepth);
    return j ? *j : Json();
  };
  Json first = call(1, "set", R"({"store":"cfg","value":{"ok":true}})");
  ASSERT_TRUE(first.contains("result")) << dumpJson(first);
  const uint64_t v1 = first["result"]["version"];
  // A JSON string's compact form is its characters plus two quotes.
  const std::string over = "\"" + std::string(kMaxSliceData - 1, 'x') + "\"";
  const std::string under = "\"" + std::string(kMaxSliceData - 2, 'y') + "\"";
  ASSERT_EQ(over.size(), kMaxSliceData + 1);
  ASSERT_EQ(under.size(), kMaxSliceData);
  Json refused = call(2, "set", R"({"store":"cfg","value":)" + over + "}");
  EXPECT_EQ(refused["id"], 2);
  EXPECT_EQ(refused["error"]["code"], rpc::kTooLarge) << dumpJson(refused).substr(0, 300);
  EXPECT_NE(refused["error"]["message"].get<std::string>().find("slice limit"), std::string::npos);
  // Same connection, daemon still up, the stored slice unchanged.
  Json kept = call(3, "get", R"({"store":"cfg","device":")" + d->device + R"("})");
  EXPECT_EQ(kept["result"]["slice"]["value"], Json({{"ok", true}}));
  EXPECT_EQ(kept["result"]["slice"]["version"], v1);
  Json stored = call(4, "set", R"({"store":"cfg","value":)" + under + "}");
  ASSERT_TRUE(stored.contains("result")) << dumpJson(stored).substr(0, 300);
  EXPECT_GT(stored["result"]["version"].get<uint64_t>(), v1);
  Json got = call(5, "get", R"({"store":"cfg","device":")" + d->device + R"("})");
  ASSERT_TRUE(got["result"]["slice"]["value"].is_string());
  EXPECT_EQ(got["result"]["slice"]["value"].get<std::string>(), std::string(kMaxSliceData - 2, 'y'));
  EXPECT_TRUE(rpcCall(d->dir, "down").isOk());
  EXPECT_EQ(d->child->wait(), 0);
}

}  // namespace
}  // namespace meshslice
