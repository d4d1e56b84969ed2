// `meshslice peers --all` and `meshslice ping` on real daemons over 127.0.0.1 (no mDNS): the
// answers to "why don't they see each other?".
#include <gtest/gtest.h>

#include "node/exit_codes.h"
#include "tests/node/daemon_fixture.h"

namespace meshslice {
namespace {

using test::eventually;
using test::peerCount;
using test::rpcCall;
using test::run;
using test::startDaemon;

// The endpoint entry of `peers --all` on `dir` for `endpoint` (null if none).
Json endpointEntry(const std::string& dir, const std::string& endpoint) {
  auto r = rpcCall(dir, "peers", Json{{"all", true}});
  if (!r) return Json();
  for (const auto& e : (*r)["endpoints"])
    if (e["endpoint"] == endpoint) return e;
  return Json();
}

bool lastErrorContains(const Json& entry, const std::string& words) {
  return entry.is_object() && entry["last_error"].is_string() &&
         entry["last_error"].get<std::string>().find(words) != std::string::npos;
}

bool inboundFailureContains(const std::string& dir, const std::string& words, const std::string& device = "") {
  auto r = rpcCall(dir, "peers", Json{{"all", true}});
  if (!r) return false;
  for (const auto& f : (*r)["inbound_failures"])
    if (f["last_error"].get<std::string>().find(words) != std::string::npos && (device.empty() || f["device"] == device))
      return true;
  return false;
}

TEST(DaemonDiagnostics, PeersAllNamesAWrongMeshSecretARefusedPortAndThePeersListenAddress) {
  ScopedTempDir root;
  auto a = startDaemon(root.file("a"), {"--name", "alpha"});
  ASSERT_TRUE(a);
  auto b = test::startJoined(*a, root.file("b"), {"--name", "bravo"});
  ASSERT_TRUE(b);
  // c has a mesh of its own (another secret); it also lists a port nothing listens on.
  auto c = startDaemon(root.file("c"), {"--name", "charlie", "--peer", a->listen, "--peer", "127.0.0.1:1"});
  ASSERT_TRUE(c);
  ASSERT_TRUE(eventually([&] { return peerCount(a->dir) == 1 && peerCount(b->dir) == 1; }));

  EXPECT_TRUE(eventually([&] { return lastErrorContains(endpointEntry(c->dir, a->listen), "different mesh secret"); }))
      << "c's dialer to a: " << dumpJson(endpointEntry(c->dir, a->listen));
  EXPECT_TRUE(eventually([&] { return inboundFailureContains(a->dir, "different mesh secret"); }))
      << "a does not show c's failed handshakes";
  EXPECT_TRUE(eventually([&] { return lastErrorContains(endpointEntry(c->dir, "127.0.0.1:1"), "connection refused"); }));
  EXPECT_EQ(peerCount(c->dir), 0u);

  // a learned b through b's dial: its listen address, not the link's ephemeral port.
  auto peers = rpcCall(a->dir, "peers", Json{{"all", true}});
  ASSERT_TRUE(peers);
  ASSERT_EQ((*peers)["peers"].size(), 1u);
  EXPECT_EQ((*peers)["peers"][0]["listen_address"], b->listen);
  EXPECT_NE((*peers)["peers"][0]["address"], b->listen);
  Json to_a = endpointEntry(b->dir, a->listen);
  EXPECT_EQ(to_a["state"], "linked");
  EXPECT_EQ(to_a["configured"], true);
  EXPECT_EQ(to_a["device"], a->device);

  auto human = run({"peers", "--all", "--state-dir", c->dir}, root.path());
  EXPECT_EQ(human.code, 0) << human.err;
  EXPECT_NE(human.out.find("different mesh secret"), std::string::npos) << human.out;
  EXPECT_NE(human.out.find("configured"), std::string::npos) << human.out;
}

TEST(DaemonDiagnostics, PingPrintsTheRoundTripAndFailsForAnUnreachableDevice) {
  ScopedTempDir root;
  auto a = startDaemon(root.file("a"), {"--name", "alpha"});
  ASSERT_TRUE(a);
  auto b = test::startJoined(*a, root.file("b"), {"--name", "bravo"});
  ASSERT_TRUE(b);
  ASSERT_TRUE(eventually([&] { return peerCount(a->dir) == 1; }));

  auto by_id = run({"ping", b->device, "--state-dir", a->dir}, root.path());
  EXPECT_EQ(by_id.code, kExitOk) << by_id.err;
  EXPECT_EQ(by_id.out.rfind("reply from " + b->device + " (bravo): ", 0), 0u) << by_id.out;
  EXPECT_NE(by_id.out.find(" ms"), std::string::npos);
  auto by_name = run({"ping", "bravo", "--json", "--state-dir", a->dir}, root.path());
  ASSERT_EQ(by_name.code, kExitOk) << by_name.err;
  auto j = parseJson(by_name.out);
  ASSERT_TRUE(j);
  EXPECT_EQ((*j)["device"], b->device);
  EXPECT_GE((*j)["rtt_ms"].get<double>(), 0.0);

  auto unknown = run({"ping", "nobody", "--state-dir", a->dir}, root.path());
  EXPECT_EQ(unknown.code, kExitError);
  EXPECT_NE(unknown.err.find("no peer named 'nobody'"), std::string::npos) << unknown.err;

  ASSERT_EQ(run({"down", "--state-dir", b->dir}, root.path()).code, 0);
  ASSERT_TRUE(eventually([&] { return peerCount(a->dir) == 0; }));
  auto gone = run({"ping", b->device, "--state-dir", a->dir}, root.path());
  EXPECT_EQ(gone.code, kExitError);
  EXPECT_NE(gone.err.find("not connected"), std::string::npos) << gone.err;
}

TEST(DaemonDiagnostics, AllowListRefusalIsNamedOnBothSides) {
  ScopedTempDir root;
  auto a = startDaemon(root.file("a"));
  ASSERT_TRUE(a);
  ASSERT_EQ(run({"mesh", "join", a->invite, "--state-dir", root.file("d")}, root.path()).code, 0);
  auto d_id = run({"id", "--state-dir", root.file("d")}, root.path());
  ASSERT_EQ(d_id.code, 0);
  const std::string d_device = d_id.out.substr(0, d_id.out.size() - 1);
  // a allows some other device only.
  auto other = run({"id", "--state-dir", root.file("other")}, root.path());
  ASSERT_EQ(run({"mesh", "allow", other.out.substr(0, other.out.size() - 1), "--state-dir", a->dir}, root.path()).code, 0);
  auto d = startDaemon(root.file("d"), {"--peer", a->listen});
  ASSERT_TRUE(d);
  EXPECT_TRUE(eventually([&] { return lastErrorContains(endpointEntry(d->dir, a->listen), "not on its allow-list"); }))
      << dumpJson(endpointEntry(d->dir, a->listen));
  EXPECT_TRUE(eventually([&] { return inboundFailureContains(a->dir, "not on the allow-list", d_device); }));
}

}  // namespace
}  // namespace meshslice
