// Stateful fuzzer: bytes from a linked peer, through the whole receive path, to the JSON the
// daemon shows for them. Per input, a fresh node A (MeshCore + the daemon's StoreHub: stores
// opened on demand, remote slices rendered as JSON) and a peer B (MeshCore) are linked over the
// in-memory transport on one FakeEnv (a real Noise handshake; deterministic). The input is a
// sequence of records [op:u8][len:u16le][len bytes], each turned into something B does:
//   op % 4 == 0  the bytes as a store-sync payload (bus namespace ms.sync)
//   op % 4 == 1  a SliceUpdate of B's own slice: byte 0 picks the store, byte 1 the version
//                step, the rest is the slice data (JSON text, or not)
//   op % 4 == 2  the bytes as one whole link envelope (PeerSession decodes them itself)
//   op % 4 == 3  time passes: byte 0 x 20 ms (heartbeats, anti-entropy, liveness)
// After the sequence, every store of A is rendered with StoreHub::get and list. Nothing may
// crash, and (else __builtin_trap):
//   - every document dumps to text that parses back to an equal document;
//   - a slice has exactly one of value / data / data_base64, names a device that parses, and
//     data (text) or data_base64 (bytes) holds only what is not a JSON value;
//   - get() shows exactly the devices whose last slice event was slice_updated, with that
//     event's version and value, and list() counts them.
// Seeds: fuzz/corpus/store_hub_json/ (sequences of the records above: JSON and binary slices,
// stale versions, golden sync messages and envelopes, goodbyes, time passing).
#include <sodium.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>

#include "base/fake_env.h"
#include "base/log.h"
#include "mesh/identity.h"
#include "mesh/mesh_core.h"
#include "node/store_hub.h"
#include "store/sync_message.h"
#include "transport/memory_transport.h"

namespace meshslice {
namespace {

constexpr size_t kMaxRecords = 64;
constexpr const char* kStores[] = {"presence", "sensors", "config", "a.b-c_d"};

LocalDevice device(const std::string& name, uint8_t seed) {
  Key32 priv;
  priv.fill(seed);
  return LocalDevice::of(Identity::fromPrivateKey(priv, name));
}

std::string stateDir() {
  static std::string dir = [] {
    std::string tmpl = (access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp") + std::string("/meshslice-fuzz-hub.XXXXXX");
    if (!mkdtemp(tmpl.data())) std::abort();
    return tmpl;
  }();
  return dir;
}

void check(bool ok) {
  if (!ok) __builtin_trap();
}

// One input's world.
struct World {
  FakeEnv env{7};
  MemoryNetwork net{env};
  Key32 psk{};
  MemoryTransport ta{net, "a"}, tb{net, "b"};
  LocalDevice da = device("a", 1), db = device("b", 2);
  std::unique_ptr<MeshCore> a, b;
  std::unique_ptr<StoreHub> hub;
  std::map<std::pair<std::string, std::string>, Json> last_event;  // (store, device) -> event
  uint64_t version = 0;

  World() {
    psk.fill(0x42);
    MeshOptions oa, ob;
    oa.listen_address = "a";
    ob.listen_address = "b";
    ob.static_peers = {"a"};
    a = std::make_unique<MeshCore>(env, ta, da, psk, oa);
    b = std::make_unique<MeshCore>(env, tb, db, psk, ob);
    hub = std::make_unique<StoreHub>(env, *a, stateDir() + "/stores", [this](const Json& e) {
      last_event[{e.value("store", ""), e.value("device", "")}] = e;
    });
    check(a->start().isOk() && b->start().isOk());
    check(env.advanceUntil([&] { return a->isConnected(db.id) && b->isConnected(da.id); }, 5 * kSeconds));
  }
  ~World() {
    hub->stop();
    b->stop();
    a->stop();
    env.runPending();
    hub.reset();
    b.reset();
    a.reset();
    env.runPending();
  }

  void apply(uint8_t op, ByteView bytes) {
    switch (op % 4) {
      case 0:
        b->bus().sendReserved(da.id, kSyncNamespace, bytes).ignore();
        break;
      case 1: {
        if (bytes.size() < 2) return;
        SliceUpdate u;
        u.store_id = kStores[bytes[0] % std::size(kStores)];
        version += bytes[1];  // a step of 0 repeats a version: stale
        u.slice = DeviceSlice{db.id, version, 1700000000000, Bytes(bytes.begin() + 2, bytes.end())};
        b->bus().sendReserved(da.id, kSyncNamespace, encodeSyncMessage(u)).ignore();
        break;
      }
      case 2:
        b->sendEncodedEnvelope(da.id, bytes).ignore();
        break;
      default:
        env.advance(static_cast<Micros>(bytes.empty() ? 1 : bytes[0]) * 20 * kMillis);
    }
    env.runPending();
  }
};

// Exactly one of value / data / data_base64, each only for what it may hold.
void checkSlice(const Json& s) {
  check(s.is_object() && s.contains("device") && s.contains("version") && s.contains("local"));
  check(DeviceId::parse(s["device"].get<std::string>()).isOk());
  const int kinds = s.contains("value") + s.contains("data") + s.contains("data_base64");
  check(kinds == 1);
  if (s.contains("data")) check(!parseJson(s["data"].get<std::string>()).isOk());
  if (s.contains("data_base64")) {
    const std::string b64 = s["data_base64"].get<std::string>();
    Bytes raw(b64.size());
    size_t len = 0;
    check(sodium_base642bin(raw.data(), raw.size(), b64.data(), b64.size(), nullptr, &len, nullptr,
                            sodium_base64_VARIANT_ORIGINAL) == 0);
    raw.resize(len);
    Json again = Json::object();
    putBytes(again, raw);
    check(again.contains("data_base64") && again["data_base64"] == s["data_base64"]);  // not UTF-8
  }
}

void checkRoundTrip(const Json& doc) {
  auto again = parseJson(dumpJson(doc), kMaxJsonDepth + 8);
  check(again.isOk() && *again == doc);
}

void checkRendering(World& w) {
  const Json list = w.hub->list();
  checkRoundTrip(list);
  for (const auto& entry : list) {
    const std::string store = entry["store"].get<std::string>();
    auto got = w.hub->get(store, std::nullopt);
    check(got.isOk());
    checkRoundTrip(*got);
    std::map<std::string, Json> shown;
    for (const auto& s : (*got)["slices"]) {
      checkSlice(s);
      shown[s["device"].get<std::string>()] = s;
    }
    check(entry["devices"].get<size_t>() == shown.size());
    for (const auto& [key, event] : w.last_event) {
      if (key.first != store || key.second == w.da.id.toString()) continue;
      const bool updated = event.value("type", "") == "slice_updated";
      check(updated == (shown.count(key.second) == 1));
      if (!updated) continue;
      const Json& s = shown[key.second];
      check(s["version"] == event["version"]);
      for (const char* k : {"value", "data", "data_base64"}) check(s.contains(k) == event.contains(k) && (!s.contains(k) || s[k] == event[k]));
    }
    auto one = w.hub->get(store, w.db.id);
    check(one.isOk() == (shown.count(w.db.id.toString()) == 1));
    if (one.isOk()) checkRoundTrip(*one);
  }
}

}  // namespace
}  // namespace meshslice

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace meshslice;
  static bool quiet = (setLogLevel(LogLevel::kOff), sodium_init() >= 0);
  (void)quiet;
  World w;
  size_t off = 0;
  for (size_t n = 0; n < kMaxRecords && off + 3 <= size; ++n) {
    const uint8_t op = data[off];
    const size_t len = std::min<size_t>(data[off + 1] | (data[off + 2] << 8), size - off - 3);
    w.apply(op, ByteView(data + off + 3, len));
    off += 3 + len;
  }
  w.env.advance(50 * kMillis);
  checkRendering(w);
  return 0;
}
