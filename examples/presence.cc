// presence: each device publishes its status; every device shows who is here and how they
// are, updated when a device joins, changes its status and leaves. Built on SyncedStore<T>,
// the ready-made store for any msgpack-serialisable value.
//
//   INVITE=$(build/examples/presence --new-invite)
//   build/examples/presence --name alice --invite $INVITE --listen 127.0.0.1:7001 --peer 127.0.0.1:7002
//   build/examples/presence --name bob   --invite $INVITE --listen 127.0.0.1:7002 --peer 127.0.0.1:7001
//   (or, instead of static peers, mDNS on loopback: --mdns-interface lo on both)
//
// Commands on stdin: status TEXT | show | quit. Flag --status TEXT sets the first status.
// Output: "+ NAME: STATUS" (joined), "~ NAME: STATUS" (changed), "- NAME (REASON)" (left),
// each followed by the whole view: "view: NAME=STATUS ..." sorted by name.
#include <algorithm>
#include <map>
#include <sstream>
#include <string>

#include "examples/common/example_cli.h"
#include "store/mesh_slice.h"
#include "store/synced_store.h"

using namespace meshslice;
using namespace meshslice::examples;

namespace {

struct Presence {
  std::string name;
  std::string status;
  int64_t since_ms = 0;  // wall clock of the owner when the status was set
  MSGPACK_DEFINE(name, status, since_ms);
};
using PresenceStore = SyncedStore<Presence>;

int64_t wallMillis() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// The view: every device's status, this one's included, sorted by name.
std::string view(const PresenceStore& store) {
  std::vector<std::pair<std::string, std::string>> rows;
  for (const auto& [id, p] : store.all()) rows.emplace_back(p.name, p.status);
  std::sort(rows.begin(), rows.end());
  std::string out = "view:";
  for (const auto& [name, status] : rows) out += " " + name + "=" + status;
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  ExampleArgs args = parseArgs(argc, argv, "presence", " [--status TEXT]", {"--status"});
  Identity identity = loadIdentity(args);
  PresenceStore store("presence", identity.deviceId());  // declared first: it outlives the mesh

  // Store events: PeerUpdated / PeerRemoved run on the loop thread, LocalChanged on the thread
  // that called set(). `names` remembers who a removed device was; only the loop thread uses it.
  std::map<DeviceId, std::string> names;
  ListenerHandle events = store.listen([&](const PresenceStore::Event& e) {
    if (const auto* u = std::get_if<PresenceStore::PeerUpdated>(&e)) {
      const bool joined = names.emplace(u->device, u->value.name).second;
      say((joined ? "+ " : "~ ") + u->value.name + ": " + u->value.status);
    } else if (const auto* r = std::get_if<PresenceStore::PeerRemoved>(&e)) {
      auto it = names.find(r->device);
      say("- " + (it == names.end() ? r->device.shortString() : it->second) + " (" + leaveReasonName(r->reason) + ")");
      if (it != names.end()) names.erase(it);
    } else {
      say("~ " + args.name + " (this device): " + std::get<PresenceStore::LocalChanged>(e).value.status);
    }
    say(view(store));  // listeners may read the store
  });
  if (!store.set({args.name, extraFlag(args, "--status", "online"), wallMillis()}).isOk()) return 1;

  MeshSliceOptions options;
  options.node = nodeOptions(args);
  MeshSlice mesh(std::move(identity), *args.secret, options);
  Status st = mesh.addStore(store);  // synced from start() on
  if (st.isOk()) st = mesh.start();
  if (!st.isOk()) {
    std::fprintf(stderr, "presence: %s\n", st.toString().c_str());
    return 1;
  }
  say("presence: " + args.name + " [" + mesh.id().shortString() + "] listening on " + mesh.listenAddress());

  CommandReader commands(args);
  std::string line;
  while (commands.next(line)) {
    std::istringstream in(line);
    std::string cmd, arg;
    in >> cmd;
    std::getline(in >> std::ws, arg);
    if (cmd == "status" && !arg.empty()) {
      Status st = store.set({args.name, arg, wallMillis()});  // any thread
      if (!st.isOk()) say("error: " + st.message());
    } else if (cmd == "show") {
      say(view(store));
    } else if (!cmd.empty()) {
      say("error: unknown command " + cmd + " (status TEXT | show | quit)");
    }
  }
  events.reset();  // no more output while shutting down
  mesh.stop();     // the store leaves the sync, then goodbyes
  say("stopped");
  return 0;
}
