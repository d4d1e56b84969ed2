// Store contracts (docs/STORES.md section 6): the StoreContracts codec, the compatibility rule,
// the contracts SyncedStore and JsonStore declare, and two nodes whose contracts disagree.
#include "store/store_contract.h"

#include <gtest/gtest.h>

#include "store/json_codec.h"
#include "tests/store/sync_cluster.h"
#include "tests/support/hex_bytes.h"

namespace meshslice {
namespace {

using test::pos;
using test::SyncCluster;
using test::SyncNode;

StoreContract contract(std::string codec, std::string schema, uint32_t version) {
  return StoreContract{std::move(codec), std::move(schema), version};
}

TEST(StoreContracts, EncodesTheDocumentedBytes) {
  StoreContracts m{{{"pos", contract("msgpack", "pos", 2)}}};
  // docs/PROTOCOL.md §7.6.
  EXPECT_EQ(toHex(encodeStoreContracts(m)), "920491" "94" "a3706f73" "a76d73677061636b" "a3706f73" "02");
  auto back = decodeStoreContracts(encodeStoreContracts(m));
  ASSERT_TRUE(back.isOk()) << back.status().toString();
  EXPECT_EQ(*back, m);
  EXPECT_TRUE(isContractMessage(encodeStoreContracts(m)));
}

TEST(StoreContracts, RefusesMalformedInput) {
  auto bad = [](const std::string& hex) { return decodeStoreContracts(test::hexBytes(hex)).status().code(); };
  EXPECT_EQ(bad("920490"), Code::kMalformed);                    // no entries
  EXPECT_EQ(bad("920391" "94a3706f73a0a000"), Code::kMalformed);  // another type code
  EXPECT_EQ(bad("920491" "93a3706f73a0a0"), Code::kMalformed);    // 3-element entry
  EXPECT_EQ(bad("920491" "94a3706f73a0a001"), Code::kMalformed);  // a version without a schema
  EXPECT_EQ(bad("920491" "94a3706f73a0a1" "0a" "00"), Code::kMalformed);  // control character
  EXPECT_EQ(bad("920491" "94a0a0a000"), Code::kMalformed);        // empty store ID
  EXPECT_EQ(bad("920491" "94a3706f73a0a0ce0100000000"), Code::kMalformed);  // truncated
  StoreContract long_schema = contract("json", std::string(kMaxContractSchemaLength + 1, 'a'), 1);
  EXPECT_EQ(validateStoreContract(long_schema).code(), Code::kTooLarge);
}

TEST(StoreContracts, UndeclaredPartsAreCompatibleWithAnything) {
  EXPECT_TRUE(contractsCompatible({}, contract("json", "todo", 1)));
  EXPECT_TRUE(contractsCompatible(contract("json", "", 0), contract("json", "todo", 1)));
  EXPECT_TRUE(contractsCompatible(contract("", "todo", 1), contract("json", "todo", 1)));
  EXPECT_FALSE(contractsCompatible(contract("msgpack", "", 0), contract("json", "todo", 1)));
  EXPECT_FALSE(contractsCompatible(contract("json", "todo", 2), contract("json", "todo", 1)));
  EXPECT_FALSE(contractsCompatible(contract("json", "todo", 1), contract("json", "note", 1)));
  EXPECT_EQ(contractString(contract("json", "todo", 2)), "json:todo@2");
  EXPECT_EQ(contractString({}), "-");
}

struct Point3 {
  int x = 0, y = 0, z = 0;
  MSGPACK_DEFINE(x, y, z);
};
struct Named {
  int x = 0;
  MSGPACK_DEFINE(x);
};
struct Todo {
  std::string text;
  bool done = false;
  friend bool operator==(const Todo&, const Todo&) = default;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Todo, text, done)
struct TodoRenamed {
  std::string title;
  bool done = false;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(TodoRenamed, title, done)

}  // namespace

template <>
struct StoreSchema<Named> {
  static constexpr std::string_view name = "named";
  static constexpr uint32_t version = 3;
};

namespace {

TEST(StoreContracts, SyncedStoreDeclaresItsCodecAndTheShapeOfItsType) {
  const DeviceId self = DeviceId::fromPublicKey(Key32{});
  test::PosStore a("pos", self);
  SyncedStore<Point3> b("pos", self);
  EXPECT_EQ(a.contract().codec, "msgpack");
  EXPECT_EQ(a.contract().schema.rfind("shape:", 0), 0u) << a.contract().schema;
  EXPECT_EQ(a.contract(), test::PosStore("other", self).contract());  // the type's, not the store's
  EXPECT_NE(a.contract(), b.contract());
  EXPECT_FALSE(contractsCompatible(a.contract(), b.contract()));
  EXPECT_EQ(SyncedStore<Named>("n", self).contract(), contract("msgpack", "named", 3));
  EXPECT_FALSE(RawStore("raw", self).contract().declared());
  StoreOptions options;
  options.contract = contract("json", "todo", 1);
  auto raw = RawStore::open("raw", self, options);
  ASSERT_TRUE(raw.isOk());
  EXPECT_EQ((*raw)->contract(), contract("json", "todo", 1));
  options.contract = contract("json", "", 1);
  EXPECT_EQ(RawStore::open("raw", self, options).status().code(), Code::kInvalidArgument);
}

TEST(JsonCodec, RoundTripsAndBoundsNesting) {
  auto bytes = JsonCodec<Todo>::encode(Todo{"milk", true});
  ASSERT_TRUE(bytes.isOk());
  EXPECT_EQ(toString(*bytes), R"({"done":true,"text":"milk"})");
  auto back = JsonCodec<Todo>::decode(*bytes);
  ASSERT_TRUE(back.isOk());
  EXPECT_EQ(*back, (Todo{"milk", true}));
  EXPECT_EQ(JsonCodec<Todo>::decode(toBytes(R"({"text":1})")).status().code(), Code::kMalformed);
  EXPECT_EQ(JsonCodec<Todo>::decode(toBytes("{")).status().code(), Code::kMalformed);
  EXPECT_EQ(JsonCodec<Todo>::decode(toBytes(std::string(100, '[') + std::string(100, ']'))).status().code(),
            Code::kTooLarge);
  // Brackets inside strings do not count.
  EXPECT_TRUE(detail::checkJsonDepth(R"({"text":"[[[[[[[[[[[[[[[[[[[[[\"[[["})", 2).isOk());
  const DeviceId self = DeviceId::fromPublicKey(Key32{});
  EXPECT_EQ(JsonStore<Todo>("t", self).contract().codec, "json");
  EXPECT_NE(JsonStore<Todo>("t", self).contract(), JsonStore<TodoRenamed>("t", self).contract());
}

// Two nodes whose "pos" contracts disagree, and a store "other" they agree on.
struct MismatchFixture {
  SyncCluster c;
  SyncNode* a = nullptr;
  SyncNode* b = nullptr;
  std::vector<ContractEvent> events_a, events_b;

  static StoreOptions with(StoreContract k) {
    StoreOptions o;
    o.contract = std::move(k);
    return o;
  }
  void start(MeshOptions b_mesh = {}) {
    a = &c.add({"pos"}, with(contract("msgpack", "pos", 1)));
    c.mesh_options = b_mesh;
    b = &c.add({"pos"}, with(contract("msgpack", "pos", 2)));
    a->adapter->setContractListener([this](const ContractEvent& e) { events_a.push_back(e); });
    b->adapter->setContractListener([this](const ContractEvent& e) { events_b.push_back(e); });
    ASSERT_TRUE(c.allConnected());
    c.addStore(*a, "other");
    c.addStore(*b, "other");
    ASSERT_TRUE(a->store().set(pos(1)).isOk());
    ASSERT_TRUE(b->store().set(pos(2)).isOk());
    ASSERT_TRUE(a->store("other").set(pos(3)).isOk());
    ASSERT_TRUE(b->store("other").set(pos(4)).isOk());
  }
};

TEST(StoreContracts, MismatchedNodesApplyNothingOfEachOthersSlicesAndReportItOnce) {
  MismatchFixture f;
  f.start();
  ASSERT_TRUE(f.c.settle("other"));
  f.c.h.env.advance(3 * AdapterOptions{}.anti_entropy_interval);  // several digest rounds
  for (SyncNode* n : {f.a, f.b}) {
    EXPECT_TRUE(n->store().remoteSlices().empty());
    EXPECT_EQ(n->store().stats().applied, 0u);
    EXPECT_EQ(n->store().stats().rejected, 0u);
    EXPECT_EQ(n->adapter->stats().contract_mismatches, 1u);
    EXPECT_EQ(n->adapter->contractMismatches().size(), 1u);
    EXPECT_EQ(n->store("other").all().size(), 2u);
  }
  ASSERT_EQ(f.events_a.size(), 1u);
  ASSERT_EQ(f.events_b.size(), 1u);
  EXPECT_EQ(f.events_a[0].peer, f.b->id());
  EXPECT_EQ(f.events_a[0].store_id, "pos");
  EXPECT_EQ(f.events_a[0].local, contract("msgpack", "pos", 1));
  EXPECT_EQ(f.events_a[0].remote, contract("msgpack", "pos", 2));
  EXPECT_TRUE(f.events_a[0].mismatched);
  EXPECT_EQ(f.events_b[0].remote, contract("msgpack", "pos", 1));

  // b comes back with a's contract: both sides converge, nothing is mismatched any more.
  f.c.restart(*f.b, {"pos"}, MismatchFixture::with(contract("msgpack", "pos", 1)));
  f.c.addStore(*f.b, "other");
  ASSERT_TRUE(f.b->store().set(pos(5)).isOk());
  ASSERT_TRUE(f.c.settle("pos"));
  EXPECT_EQ(f.a->store().get(f.b->id()), pos(5));
  EXPECT_EQ(f.b->store().get(f.a->id()), pos(1));
  EXPECT_TRUE(f.a->adapter->contractMismatches().empty());
  EXPECT_TRUE(f.b->adapter->contractMismatches().empty());
  EXPECT_EQ(f.a->adapter->stats().contract_mismatches, 1u);
}

TEST(StoreContracts, ReRegisteringWithAMatchingContractHealsWithoutARestart) {
  MismatchFixture f;
  f.start();
  ASSERT_TRUE(f.c.settle("other"));
  ASSERT_EQ(f.events_a.size(), 1u);
  ASSERT_TRUE(f.b->adapter->removeStore("pos").isOk());
  f.b->stores.erase("pos");
  f.b->events.erase("pos");
  f.c.addStore(*f.b, "pos", MismatchFixture::with(contract("msgpack", "pos", 1)));
  ASSERT_TRUE(f.b->store().set(pos(6)).isOk());
  ASSERT_TRUE(f.c.settle("pos"));
  ASSERT_EQ(f.events_a.size(), 2u);
  EXPECT_FALSE(f.events_a[1].mismatched);  // healed
  EXPECT_EQ(f.events_a[1].peer, f.b->id());
  EXPECT_TRUE(f.a->adapter->contractMismatches().empty());
  EXPECT_EQ(f.b->store("other").all().size(), 2u);
}

TEST(StoreContracts, APeerWithoutTheCapabilitySyncsAsBefore) {
  MeshOptions old_build;
  old_build.capabilities = {"bus", "rpc", "sync", "delta"};
  MismatchFixture f;
  f.start(old_build);
  ASSERT_TRUE(f.c.settle("pos"));
  EXPECT_TRUE(f.events_a.empty());
  EXPECT_EQ(f.a->adapter->stats().contracts_sent, 0u);
  EXPECT_EQ(f.a->adapter->stats().malformed + f.b->adapter->stats().malformed, 0u);
}

}  // namespace
}  // namespace meshslice
