// What the client commands print for people (tables, status lines, watch lines) and how deeply
// nested values travel through set, get and watch, against running daemons on 127.0.0.1.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>

#include "mesh/mesh_node.h"
#include "node/exit_codes.h"
#include "store/store_sync_adapter.h"
#include "store/synced_store.h"
#include "tests/node/daemon_fixture.h"
#include "tests/node/raw_socket.h"

namespace meshslice {
namespace {

using test::eventually;
using test::lineCount;
using test::peerCount;
using test::rpcCall;
using test::run;
using test::startDaemon;

Json event(const std::string& line) {
  auto j = parseJson(line, kMaxReplyDepth);
  return j ? *j : Json();
}

std::string nested(size_t levels, const std::string& inner = "1") {
  return std::string(levels, '[') + inner + std::string(levels, ']');
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1)
    out.push_back(text.substr(start, nl - start));
  return out;
}

// A watch line without its leading "HH:MM:SS.mmm  " (nullopt if it has none).
std::optional<std::string> untimed(const std::string& line) {
  if (line.size() < 14 || line[2] != ':' || line[5] != ':' || line[8] != '.' || line.compare(12, 2, "  ") != 0)
    return std::nullopt;
  return line.substr(14);
}
bool startsUntimed(const std::string& line, const std::string& prefix) {
  auto body = untimed(line);
  return body && body->rfind(prefix, 0) == 0;
}

uint64_t versionOf(const std::string& dir, const std::string& store, const std::string& device) {
  auto r = rpcCall(dir, "get", Json{{"store", store}, {"device", device}});
  return r ? (*r)["slice"]["version"].get<uint64_t>() : 0;
}

TEST(ClientOutput, StatusPeersAndWatchPrintAlignedHumanForms) {
  ScopedTempDir root;
  auto a = startDaemon(root.file("a"), {"--name", "alpha"});
  ASSERT_TRUE(a);
  test::Child watch({"watch", "--state-dir", a->dir}, root.file("watch.err"));
  ASSERT_TRUE(eventually([&] {
    auto s = rpcCall(a->dir, "status");
    return s && (*s)["watchers"] == 1;
  }));
  for (const char* n : {"b", "c"}) ASSERT_EQ(run({"mesh", "join", a->invite, "--state-dir", root.file(n)}, root.path()).code, 0);
  auto b = startDaemon(root.file("b"), {"--name", "bee", "--peer", a->listen});
  ASSERT_TRUE(b);
  auto c = startDaemon(root.file("c"), {"--name", "a-much-longer-name", "--peer", a->listen});
  ASSERT_TRUE(c);
  ASSERT_TRUE(eventually([&] { return peerCount(a->dir) == 2; }));
  auto listed = rpcCall(a->dir, "peers");
  ASSERT_TRUE(listed.isOk());
  std::map<std::string, Json> by_device;
  for (const auto& p : (*listed)["peers"]) by_device[p["device"]] = p;

  // watch: "<time>  peer joined  <device>  <name>  <address>", one per peer.
  for (int i = 0; i < 2; ++i) {
    auto line = watch.readUntil([](const std::string& l) { return startsUntimed(l, "peer joined"); });
    ASSERT_TRUE(line) << "watch printed: " << ::testing::PrintToString(watch.seenLines());
    auto joined = untimed(*line);
    std::string device = joined->substr(13, DeviceId::kTextLength);
    ASSERT_EQ(by_device.count(device), 1u) << *joined;
    const Json& p = by_device[device];
    EXPECT_EQ(*joined, "peer joined  " + device + "  " + p["name"].get<std::string>() + "  " +
                           p["address"].get<std::string>());
  }

  // peers: a table, columns two spaces apart, each as wide as its widest cell.
  auto peers = run({"peers", "--state-dir", a->dir}, root.path());
  ASSERT_EQ(peers.code, 0) << peers.err;
  std::vector<std::string> expected = {"DEVICE" + std::string(39 - 6 + 2, ' ') + "NAME" + std::string(18 - 4 + 2, ' ') +
                                       "ADDRESS"};
  for (const auto& p : (*listed)["peers"]) {
    std::string name = p["name"];
    expected.push_back(p["device"].get<std::string>() + "  " + name + std::string(18 - name.size() + 2, ' ') +
                       p["address"].get<std::string>());
  }
  EXPECT_EQ(lines(peers.out), expected) << peers.out;

  // status: "key:" padded to 12 columns, then the value.
  auto status_json = rpcCall(a->dir, "status");
  ASSERT_TRUE(status_json.isOk());
  auto status = run({"status", "--state-dir", a->dir}, root.path());
  ASSERT_EQ(status.code, 0) << status.err;
  std::vector<std::string> got = lines(status.out);
  ASSERT_EQ(got.size(), 11u) << status.out;
  EXPECT_EQ(got[0], "device:     " + a->device);
  EXPECT_EQ(got[1], "name:       alpha");
  EXPECT_EQ(got[2], "listen:     " + a->listen);
  EXPECT_EQ(got[3], "mesh_tag:   " + (*status_json)["mesh_tag"].get<std::string>());
  EXPECT_EQ(got[4], "peers:      2");
  EXPECT_EQ(got[5], "stores:     0");
  EXPECT_EQ(got[6], "state_dir:  " + a->dir);
  EXPECT_EQ(got[7], "mdns:       false");
  EXPECT_EQ(got[8], "allow_list: false");
  EXPECT_EQ(got[9], "pid:        " + std::to_string(a->child->pid()));
  EXPECT_THAT(got[10], ::testing::MatchesRegex("uptime_s:   [0-9]+"));

  // watch: "<time>  slice        <store>  <device>  v<version>  <value>" for remote and local writes.
  ASSERT_EQ(run({"set", "s", R"({"x": 1})", "--state-dir", b->dir}, root.path()).code, 0);
  auto remote = watch.readUntil([&](const std::string& l) { return startsUntimed(l, "slice        s  " + b->device); });
  ASSERT_TRUE(remote);
  remote = untimed(*remote);
  EXPECT_EQ(*remote, "slice        s  " + b->device + "  v" + std::to_string(versionOf(b->dir, "s", b->device)) +
                         "  {\"x\":1}");
  ASSERT_EQ(run({"set", "s", "[1, 2]", "--state-dir", a->dir}, root.path()).code, 0);
  auto local = watch.readUntil([&](const std::string& l) { return startsUntimed(l, "slice        s  " + a->device); });
  ASSERT_TRUE(local);
  local = untimed(*local);
  EXPECT_EQ(*local, "slice        s  " + a->device + "  v" + std::to_string(versionOf(a->dir, "s", a->device)) + "  [1,2]");

  // watch: "<time>  peer left    <device>  <name>  (<reason>)" and "<time>  slice gone   <store>  <device>  (<reason>)".
  ASSERT_EQ(run({"down", "--state-dir", b->dir}, root.path()).code, 0);
  std::optional<std::string> left, gone;
  watch.readUntil([&](const std::string& l) {
    if (startsUntimed(l, "peer left")) left = untimed(l);
    if (startsUntimed(l, "slice gone")) gone = untimed(l);
    return left && gone;
  });
  ASSERT_TRUE(left && gone) << ::testing::PrintToString(watch.seenLines());
  EXPECT_EQ(*left, "peer left    " + b->device + "  bee  (goodbye)");
  EXPECT_EQ(*gone, "slice gone   s  " + b->device + "  (goodbye)");

  for (auto* d : {c.get(), a.get()}) EXPECT_EQ(run({"down", "--state-dir", d->dir}, root.path()).code, 0);
  watch.readRest();
  EXPECT_EQ(watch.wait(), 0);
}

// A value as deep as a request can carry (62 levels) goes through set, get and watch; the CLI
// parses replies that wrap it in up to 5 more levels.
TEST(ClientOutput, AValueNestedSixtyTwoLevelsRoundTripsThroughSetGetAndWatch) {
  ScopedTempDir root;
  auto d = startDaemon(root.file("d"));
  ASSERT_TRUE(d);
  test::Child watch({"watch", "--json", "--state-dir", d->dir}, root.file("watch.err"));
  ASSERT_TRUE(eventually([&] {
    auto s = rpcCall(d->dir, "status");
    return s && (*s)["watchers"] == 1;
  }));
  const std::string deep = nested(kMaxValueDepth);
  auto set = run({"set", "cfg", deep, "--state-dir", d->dir}, root.path());
  ASSERT_EQ(set.code, 0) << set.err;
  auto one = run({"get", "cfg", d->device, "--state-dir", d->dir}, root.path());
  EXPECT_EQ(one.code, 0) << one.err;
  EXPECT_EQ(one.out, deep + "\n");
  auto all = run({"get", "cfg", "--state-dir", d->dir}, root.path());
  EXPECT_EQ(all.code, 0) << all.err;
  EXPECT_EQ(all.out, "{\"" + d->device + "\":" + deep + "}\n");
  auto full = run({"get", "cfg", "--json", "--state-dir", d->dir}, root.path());
  ASSERT_EQ(full.code, 0) << full.err;
  EXPECT_EQ(dumpJson(event(full.out)["slices"][0]["value"]), deep);
  // The deepest reply of all, a batch get, still fits what clients are told to accept.
  RawSocket s(d->control);
  s.write(R"([{"jsonrpc":"2.0","id":1,"method":"get","params":{"store":"cfg"}}])" "\n");
  std::string batch = s.line();
  EXPECT_EQ(jsonNestingDepth(batch, 1000), kMaxReplyDepth);
  EXPECT_TRUE(parseJson(batch, kMaxReplyDepth).isOk());

  auto seen = watch.readUntil([](const std::string& l) { return event(l).value("type", "") == "slice_updated"; });
  ASSERT_TRUE(seen) << watch.seenLines().size();
  EXPECT_EQ(dumpJson(event(*seen)["value"]), deep);

  auto too_deep = run({"set", "cfg", nested(kMaxValueDepth + 1), "--state-dir", d->dir}, root.path());
  EXPECT_EQ(too_deep.code, kExitUsage);
  EXPECT_EQ(lineCount(too_deep.err), 1u) << too_deep.err;
  EXPECT_NE(too_deep.err.find("nested deeper than 62 levels"), std::string::npos) << too_deep.err;
  EXPECT_EQ(run({"get", "cfg", d->device, "--state-dir", d->dir}, root.path()).out, deep + "\n");
  ASSERT_EQ(run({"down", "--state-dir", d->dir}, root.path()).code, 0);
  watch.readRest();
  EXPECT_EQ(watch.wait(), 0);
}

// A library peer (RawStore: any bytes) writes JSON deeper than a request could carry. The
// daemon shows it as text, so get and watch keep working on every node.
TEST(ClientOutput, ATooDeepRemoteValueIsShownAsTextAndWatchKeepsRunning) {
  ScopedTempDir root;
  auto d = startDaemon(root.file("d"));
  ASSERT_TRUE(d);
  test::Child watch_json({"watch", "--json", "--state-dir", d->dir}, root.file("wj.err"));
  test::Child watch_text({"watch", "--state-dir", d->dir}, root.file("wt.err"));
  ASSERT_TRUE(eventually([&] {
    auto s = rpcCall(d->dir, "status");
    return s && (*s)["watchers"] == 2;
  }));

  auto secret = MeshSecret::fromInvite(d->invite);
  ASSERT_TRUE(secret.isOk());
  MeshNodeOptions options;
  options.mesh.static_peers = {d->listen};
  MeshNode lib(Identity::generate("lib"), *secret, options);
  const std::string lib_id = lib.id().toString();
  RawStore raw("cfg", lib.id());
  std::unique_ptr<StoreSyncAdapter> adapter;
  ASSERT_TRUE(lib.start().isOk());
  ASSERT_TRUE(lib.call([&](MeshCore& core) {
    adapter = std::make_unique<StoreSyncAdapter>(lib.env(), core);
    return adapter->addStore(raw);
  }).isOk());
  ASSERT_TRUE(eventually([&] { return peerCount(d->dir) == 1; }));

  const std::string deep = nested(kMaxJsonDepth);  // 64 levels
  ASSERT_TRUE(raw.set(toBytes(deep)).isOk());
  auto shown = watch_json.readUntil([&](const std::string& l) {
    Json e = event(l);
    return e.value("type", "") == "slice_updated" && e.value("device", "") == lib_id;
  });
  ASSERT_TRUE(shown) << "watch --json exited or missed the slice: " << test::readFile(root.file("wj.err"));
  Json e = event(*shown);
  EXPECT_FALSE(e.contains("value"));
  EXPECT_EQ(e["data"], deep);
  auto text_line = watch_text.readUntil([&](const std::string& l) { return startsUntimed(l, "slice        cfg  " + lib_id); });
  ASSERT_TRUE(text_line) << test::readFile(root.file("wt.err"));
  // Shown as its JSON text, cut to 100 characters in the human form.
  const std::string shown_text = "\"" + deep + "\"";
  EXPECT_TRUE(text_line->ends_with("  " + shown_text.substr(0, 100) + "... (" + std::to_string(shown_text.size()) + " bytes)"))
      << *text_line;
  auto got = run({"get", "cfg", lib_id, "--state-dir", d->dir}, root.path());
  EXPECT_EQ(got.code, 0) << got.err;
  EXPECT_EQ(got.out, "\"" + deep + "\"\n");
  auto full = run({"get", "cfg", "--json", "--state-dir", d->dir}, root.path());
  EXPECT_EQ(full.code, 0) << full.err;

  // Both watchers are still there for the next, ordinary value.
  ASSERT_TRUE(raw.set(toBytes(R"({"a":1})")).isOk());
  auto next = watch_json.readUntil([&](const std::string& l) { return event(l).contains("value"); });
  ASSERT_TRUE(next);
  EXPECT_EQ(event(*next)["value"], Json({{"a", 1}}));
  EXPECT_TRUE(watch_text.readUntil([](const std::string& l) { return l.ends_with("  {\"a\":1}"); }));

  lib.call([&](MeshCore&) {
    adapter.reset();
    return 0;
  });
  lib.stop();
  ASSERT_EQ(run({"down", "--state-dir", d->dir}, root.path()).code, 0);
  watch_json.readRest();
  watch_text.readRest();
  EXPECT_EQ(watch_json.wait(), 0);
  EXPECT_EQ(watch_text.wait(), 0);
}

}  // namespace
}  // namespace meshslice
