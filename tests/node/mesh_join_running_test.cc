// `mesh join` under a running daemon: the daemon cannot change mesh while it runs, so the CLI
// refuses, and `mesh invite` and `status` keep naming the same mesh.
#include <unistd.h>

#include <gtest/gtest.h>

#include "node/exit_codes.h"
#include "tests/node/daemon_fixture.h"

namespace meshslice {
namespace {

using test::lineCount;
using test::readFile;
using test::rpcCall;
using test::run;
using test::startDaemon;

TEST(MeshJoinRunning, JoinForceOnARunningDaemonIsRefusedAndChangesNothing) {
  ScopedTempDir root;
  auto a = startDaemon(root.file("a"));
  ASSERT_TRUE(a);
  auto status = rpcCall(a->dir, "status");
  ASSERT_TRUE(status);
  const Json tag = (*status)["mesh_tag"];
  const std::string key = readFile(a->dir + "/mesh.key");
  std::string other = run({"mesh", "invite", "--state-dir", root.file("other")}, root.path()).out;
  ASSERT_FALSE(other.empty());
  other.pop_back();

  auto refused = run({"mesh", "join", other, "--force", "--state-dir", a->dir}, root.path());
  EXPECT_EQ(refused.code, kExitError);
  EXPECT_EQ(lineCount(refused.err), 1u) << refused.err;
  EXPECT_NE(refused.err.find("stop it first (meshslice down)"), std::string::npos) << refused.err;
  EXPECT_EQ(readFile(a->dir + "/mesh.key"), key);
  EXPECT_NE(::access((a->dir + "/mesh.key.old").c_str(), F_OK), 0) << "no backup made";
  EXPECT_EQ(run({"mesh", "invite", "--state-dir", a->dir}, root.path()).out, a->invite + "\n");
  EXPECT_EQ((*rpcCall(a->dir, "status"))["mesh_tag"], tag);
  // Its own invite is still "already in this mesh", daemon or not.
  EXPECT_EQ(run({"mesh", "join", a->invite, "--state-dir", a->dir}, root.path()).out, "already in this mesh\n");

  ASSERT_EQ(run({"down", "--state-dir", a->dir}, root.path()).code, 0);
  EXPECT_EQ(a->child->wait(), 0);
  auto joined = run({"mesh", "join", other, "--force", "--state-dir", a->dir}, root.path());
  EXPECT_EQ(joined.code, 0) << joined.err;
  EXPECT_EQ(run({"mesh", "invite", "--state-dir", a->dir}, root.path()).out, other + "\n");
}

}  // namespace
}  // namespace meshslice
