// Issue 14: `meshslice up --state-dir D &` followed at once by `meshslice mesh invite` (or `id`)
// on the same fresh directory printed an invite for another mesh than the daemon used in 3 of
// 5 tries: both created mesh.key, the daemon by replacing the file after it had started with
// its own. Now key creation is exclusive and serialised by the state directory's key creation
// lock (node/state_dir.h): every race ends with one mesh and one identity, the ones the daemon
// runs with and the disk holds.
#include <gtest/gtest.h>
#include <signal.h>

#include <memory>
#include <vector>

#include "mesh/identity.h"
#include "mesh/mesh_secret.h"
#include "node/exit_codes.h"
#include "tests/node/daemon_fixture.h"

namespace meshslice {
namespace {

using test::Child;
using test::rpcCall;

constexpr int kRaces = 100;
// Races run this many at a time (each in its own directory): process start-up dominates,
// and overlapping it keeps the test fast (also under the sanitizers) without making any one
// race less of a race: within each, `up` starts just before its `mesh invite`.
constexpr int kParallel = 4;
// Every this many races, `id` joins the race too (identity creation).
constexpr int kIdEvery = 4;

// The first line of a finished child's stdout; its exit code in `code`.
std::string firstLine(Child& c, int& code) {
  auto line = c.readLine(20000);
  c.readRest(20000);
  code = c.wait(20000);
  return line.value_or("");
}

struct Race {
  std::string dir;
  std::unique_ptr<Child> up, invite, id;
};

Race startRace(const ScopedTempDir& root, int i) {
  Race r;
  r.dir = root.file("s" + std::to_string(i));
  r.up = std::make_unique<Child>(std::vector<std::string>{"up", "--state-dir", r.dir, "--no-mdns", "--listen", "127.0.0.1:0"},
                                 r.dir + ".up.err");
  r.invite = std::make_unique<Child>(std::vector<std::string>{"mesh", "invite", "--state-dir", r.dir}, r.dir + ".invite.err");
  if (i % kIdEvery == 0) r.id = std::make_unique<Child>(std::vector<std::string>{"id", "--state-dir", r.dir}, r.dir + ".id.err");
  return r;
}

// Checks one race once its daemon is up: one mesh (and one identity) everywhere. `created_by_daemon`
// counts the races the daemon created the mesh in.
void checkRace(Race& r, int& created_by_daemon) {
  const std::string& dir = r.dir;
  std::string daemon_device, daemon_invite;
  for (;;) {
    auto line = r.up->readLine(20000);
    ASSERT_TRUE(line) << "the daemon did not start: " << test::readFile(dir + ".up.err");
    if (*line == "ready") break;
    if (line->rfind("device: ", 0) == 0) daemon_device = line->substr(8);
    if (line->rfind("invite: ", 0) == 0) daemon_invite = line->substr(8);
  }
  int invite_code = -1;
  const std::string printed_invite = firstLine(*r.invite, invite_code);
  ASSERT_EQ(invite_code, kExitOk) << test::readFile(dir + ".invite.err");
  auto status = rpcCall(dir, "status");
  ASSERT_TRUE(status.isOk()) << status.status().toString();
  auto secret = MeshSecret::fromInvite(printed_invite);
  ASSERT_TRUE(secret.isOk()) << printed_invite;
  EXPECT_EQ(secret->tag(), (*status)["mesh_tag"].get<std::string>()) << "the invite is for the daemon's mesh";
  auto on_disk = MeshSecret::load(dir);
  ASSERT_TRUE(on_disk.isOk()) << on_disk.status().toString();
  EXPECT_TRUE(*on_disk == *secret) << "the next start uses the same mesh";
  if (!daemon_invite.empty()) {
    EXPECT_EQ(daemon_invite, printed_invite);
    ++created_by_daemon;
  }
  auto identity = Identity::load(dir + "/" + std::string(kIdentityFileName));
  ASSERT_TRUE(identity.isOk());
  EXPECT_EQ(identity->deviceId().toString(), daemon_device) << "the disk holds the daemon's identity";
  if (r.id) {
    int id_code = -1;
    const std::string printed_id = firstLine(*r.id, id_code);
    ASSERT_EQ(id_code, kExitOk) << test::readFile(dir + ".id.err");
    EXPECT_EQ(printed_id, daemon_device) << "one identity";
  }
}

TEST(KeyCreationRace, InviteAndIdRacingAFirstUpAgreeWithTheDaemonEveryTime) {
  ScopedTempDir root;
  int created_by_daemon = 0;
  for (int batch = 0; batch < kRaces / kParallel && !HasFailure(); ++batch) {
    std::vector<Race> races;
    for (int k = 0; k < kParallel; ++k) races.push_back(startRace(root, batch * kParallel + k));
    for (Race& r : races) {
      SCOPED_TRACE(r.dir);
      checkRace(r, created_by_daemon);
    }
    for (Race& r : races) r.up->signal(SIGTERM);
    for (Race& r : races) EXPECT_EQ(r.up->wait(20000), kExitOk) << r.dir;
  }
  // Which side created the mesh depends on scheduling; both must occur for the race to be
  // real, but on a loaded machine one may win every time: report rather than assert.
  const int created_by_cli = kRaces - created_by_daemon;
  RecordProperty("daemon_created", created_by_daemon);
  RecordProperty("cli_created", created_by_cli);
  std::printf("races: the daemon created the mesh %d times, `mesh invite` %d times\n", created_by_daemon, created_by_cli);
}

// A daemon that runs without its mesh.key (deleted under it) is never given another mesh by
// `mesh invite`: the CLI says what is wrong instead.
TEST(KeyCreationRace, InviteRefusesToCreateAMeshUnderARunningDaemon) {
  ScopedTempDir root;
  const std::string dir = root.file("s");
  auto d = test::startDaemon(dir);
  ASSERT_TRUE(d);
  ASSERT_EQ(::unlink((dir + "/mesh.key").c_str()), 0);
  auto r = test::run({"mesh", "invite", "--state-dir", dir}, root.path());
  EXPECT_EQ(r.code, kExitError);
  EXPECT_NE(r.err.find("the daemon running on " + dir + " has no mesh.key"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_NE(::access((dir + "/mesh.key").c_str(), F_OK), 0) << "nothing was created";
  d->child->signal(SIGTERM);
  EXPECT_EQ(d->child->wait(20000), kExitOk);
  // With the daemon gone, invite creates a mesh as before.
  auto fresh = test::run({"mesh", "invite", "--state-dir", dir}, root.path());
  EXPECT_EQ(fresh.code, kExitOk) << fresh.err;
  EXPECT_NE(fresh.err.find("created a new mesh"), std::string::npos) << fresh.err;
}

}  // namespace
}  // namespace meshslice
