// The daemon's stores and contracts (docs/STORES.md section 6): a `contract` config entry, and two
// StoreHubs over the in-memory transport whose contracts for one store disagree.
#include <gtest/gtest.h>

#include <stdlib.h>

#include <filesystem>

#include "node/daemon_config.h"
#include "node/store_hub.h"
#include "tests/support/mesh_harness.h"

namespace meshslice {
namespace {

TEST(ContractConfig, ParsesStoreSchemaAndVersion) {
  auto e = parseContractEntry("todos=todo@2");
  ASSERT_TRUE(e.isOk()) << e.status().toString();
  EXPECT_EQ(e->first, "todos");
  EXPECT_EQ(e->second, (StoreContract{"json", "todo", 2}));
  for (const char* bad : {"todos", "todos=todo", "=todo@1", "todos=@1", "todos=todo@x", "todos=todo@99999999999",
                          "bad store=todo@1"})
    EXPECT_EQ(parseContractEntry(bad).status().code(), Code::kInvalidArgument) << bad;
  auto layer = parseConfigText("contract = todos=todo@1\ncontract = notes=note@3\n", "t.conf");
  ASSERT_TRUE(layer.isOk()) << layer.status().toString();
  ASSERT_TRUE(layer->contracts);
  EXPECT_EQ(layer->contracts->size(), 2u);
}

struct HubNode {
  test::TestNode* node = nullptr;
  std::unique_ptr<StoreHub> hub;
  std::vector<Json> events;
};

std::string makeTempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "ms-hub-XXXXXX").string();
  const char* dir = mkdtemp(pattern.data());
  EXPECT_NE(dir, nullptr);
  return pattern;
}

TEST(StoreHubContracts, AMismatchIsListedReportedAndKeepsTheSlicesApart) {
  test::MeshHarness h;
  const std::string dir = makeTempDir();
  HubNode a, b;
  a.node = &h.addNode();
  b.node = &h.addNode({}, {a.node->address});
  int i = 0;
  for (HubNode* n : {&a, &b}) {
    n->hub = std::make_unique<StoreHub>(h.env, *n->node->core, dir + "/" + std::to_string(i), [n](const Json& e) {
      n->events.push_back(e);
    });
    n->hub->declareContract("todos", StoreContract{"json", "todo", uint32_t(1 + i++)});
    ASSERT_TRUE(n->hub->set("todos", R"({"text":"milk"})").isOk());
    ASSERT_TRUE(n->hub->set("other", "1").isOk());
  }
  ASSERT_TRUE(h.allConnected());
  auto devices = [](HubNode& n, const std::string& store) {
    for (const Json& s : n.hub->list())
      if (s["store"] == store) return s["devices"].get<int>();
    return -1;
  };
  ASSERT_TRUE(h.env.advanceUntil([&] { return devices(a, "other") == 2 && devices(b, "other") == 2; }, 5 * kSeconds));
  for (HubNode* n : {&a, &b}) {
    EXPECT_EQ(devices(*n, "todos"), 1);
    EXPECT_EQ(n->hub->contractMismatches(), 1u);
    int reported = 0;
    for (const Json& e : n->events) reported += e["type"] == "contract_mismatch";
    EXPECT_EQ(reported, 1);
  }
  const Json listed = a.hub->list();
  for (const Json& s : listed) {
    if (s["store"] != "todos") continue;
    EXPECT_EQ(s["contract"], "json:todo@1");
    ASSERT_EQ(s["mismatched"].size(), 1u);
    EXPECT_EQ(s["mismatched"][0]["device"], b.node->id().toString());
    EXPECT_EQ(s["mismatched"][0]["contract"], "json:todo@2");
  }
  a.hub->stop();
  b.hub->stop();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace meshslice
