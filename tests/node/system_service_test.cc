// Running as a system service: the generated systemd unit, the control socket shared with a
// group, and the CLI finding the system daemon's state directory when the user has none.
#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>

#include "node/daemon_config.h"
#include "node/exit_codes.h"
#include "tests/node/daemon_fixture.h"

namespace meshslice {
namespace {

using test::readFile;
using test::run;
using test::startDaemon;

TEST(SystemService, TheUnitRunsTheInstalledBinaryWithTheSystemConfigAndGroup) {
  const std::string unit = readFile(std::string(MESHSLICE_BINARY_DIR) + "/meshslice.service");
  ASSERT_FALSE(unit.empty());
  EXPECT_EQ(unit.find('@'), std::string::npos) << "every @VAR@ substituted";
  size_t exec = unit.find("\nExecStart=");
  ASSERT_NE(exec, std::string::npos);
  std::string line = unit.substr(exec + 1, unit.find('\n', exec + 1) - exec - 1);
  EXPECT_EQ(line.rfind("ExecStart=/", 0), 0u) << line;
  EXPECT_NE(line.find("/bin/meshslice up --state-dir /var/lib/meshslice --config /"), std::string::npos) << line;
  EXPECT_NE(line.find("/meshslice/meshslice.conf --control-group meshslice"), std::string::npos) << line;
  EXPECT_NE(unit.find("\nGroup=meshslice\n"), std::string::npos);
  EXPECT_NE(unit.find("\nExecReload=/bin/kill -HUP $MAINPID\n"), std::string::npos);
}

TEST(SystemService, ControlGroupMakesTheSocketGroupReadableAndWritable) {
  ScopedTempDir root;
  struct group* g = ::getgrgid(::getgid());
  ASSERT_NE(g, nullptr);
  const std::string name = g->gr_name;
  auto d = startDaemon(root.file("d"), {"--control-group", name});
  ASSERT_TRUE(d);
  struct stat st{};
  ASSERT_EQ(::stat(d->control.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0660u);
  EXPECT_EQ(st.st_gid, ::getgid());
  auto plain = startDaemon(root.file("p"));
  ASSERT_TRUE(plain);
  ASSERT_EQ(::stat(plain->control.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "owner only by default";

  auto bad = run({"up", "--no-mdns", "--listen", "127.0.0.1:0", "--control-group", "no-such-group-xyz",
                  "--state-dir", root.file("b")}, root.path());
  EXPECT_EQ(bad.code, kExitUsage);
  EXPECT_NE(bad.err.find("control-group 'no-such-group-xyz': no such group"), std::string::npos) << bad.err;
}

TEST(SystemService, ClientsUseTheSystemStateDirOnlyWhenTheUserHasNone) {
  ScopedTempDir root;
  const std::string user = root.file("user"), system = root.file("system");
  EXPECT_EQ(clientStateDir(user, system), user) << "no system daemon either: the user's (for its error)";
  ASSERT_EQ(::mkdir(system.c_str(), 0750), 0);
  std::ofstream(system + "/control.sock") << "";
  EXPECT_EQ(clientStateDir(user, system), system);
  ASSERT_EQ(::mkdir(user.c_str(), 0700), 0);
  EXPECT_EQ(clientStateDir(user, system), user) << "the user's own directory wins";
}

}  // namespace
}  // namespace meshslice
