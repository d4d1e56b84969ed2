// Error paths of the real binary: each gets one clear line on stderr, a documented exit code,
// and leaves what is on disk as it was.
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <fstream>

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

TEST(DaemonErrors, AnUnusableStateDirExitsWithOne) {
  ScopedTempDir root;
  writeFile(root.file("file"), "x");
  auto r = run({"up", "--state-dir", root.file("file") + "/state", "--no-mdns", "--listen", "127.0.0.1:0"}, root.path());
  EXPECT_EQ(r.code, kExitError);
  EXPECT_NE(r.err.find("state directory"), std::string::npos) << r.err;
  EXPECT_EQ(lineCount(r.err), 1u) << r.err;
  if (::geteuid() != 0) {  // root ignores directory modes
    std::string ro = root.file("ro");
    ASSERT_EQ(::mkdir(ro.c_str(), 0500), 0);
    auto denied = run({"up", "--state-dir", ro, "--no-mdns", "--listen", "127.0.0.1:0"}, root.path());
    EXPECT_EQ(denied.code, kExitError);
    EXPECT_NE(denied.err.find("not writable"), std::string::npos) << denied.err;
  }
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
  writeFile(root.file("big.json"), "\"" + std::string(kMaxSliceData, 'x') + "\"");
  struct Case {
    std::vector<std::string> args;
    int code;
    std::string expect;
  };
  std::vector<Case> cases = {
      {{"set", "cfg", "{\"a\":"}, kExitUsage, "malformed JSON"},
      {{"set", "cfg", std::string(100, '[') + std::string(100, ']')}, kExitUsage, "nested deeper"},
      {{"set", "cfg", "@" + root.file("big.json")}, kExitUsage, "slice limit"},
      {{"set", "cfg", "@" + root.file("missing.json")}, kExitError, "cannot read"},
      {{"set", "bad store", "1"}, kExitUsage, "store"},
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

}  // namespace
}  // namespace meshslice
