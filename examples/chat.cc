// chat: the message bus. Every line typed goes to every connected device; peers joining and
// leaving are announced.
//
//   INVITE=$(build/examples/chat --new-invite)
//   build/examples/chat --name alice --invite $INVITE --listen 127.0.0.1:7001 --peer 127.0.0.1:7002
//   build/examples/chat --name bob   --invite $INVITE --listen 127.0.0.1:7002 --peer 127.0.0.1:7001
//
// Input on stdin: a line of text is a message; "/to NAME TEXT" sends to one device, "/peers"
// lists them, "/quit" (or EOF) leaves. Output: "<NAME> TEXT" for messages, "* NAME joined",
// "* NAME left (REASON)", "(sent to N)" after each message.
#include <map>
#include <mutex>
#include <sstream>
#include <string>

#include "examples/common/example_cli.h"
#include "store/mesh_slice.h"

using namespace meshslice;
using namespace meshslice::examples;

namespace {

constexpr std::string_view kChatNamespace = "chat";

// Keeps device names for messages and leave lines. Peer events and bus messages both run on
// the node's loop thread; the command thread reads names too, hence the lock.
class Roster final : public PeerObserver {
 public:
  void onPeerJoined(const PeerJoined& e) override {
    remember(e.peer);
    say("* " + e.peer.name + " joined");
  }
  void onPeerUpdated(const PeerUpdated& e) override { remember(e.peer); }
  void onPeerLeft(const PeerLeft& e) override { say("* " + nameOf(e.id) + " left (" + leaveReasonName(e.reason) + ")"); }

  std::string nameOf(const DeviceId& id) const {
    std::lock_guard lock(mutex_);
    auto it = names_.find(id);
    return it == names_.end() ? id.shortString() : it->second;
  }
  std::optional<DeviceId> find(const std::string& name) const {
    std::lock_guard lock(mutex_);
    for (const auto& [id, n] : names_)
      if (n == name) return id;
    return std::nullopt;
  }

 private:
  void remember(const PeerInfo& peer) {
    std::lock_guard lock(mutex_);
    names_[peer.id] = peer.name;
  }
  mutable std::mutex mutex_;
  std::map<DeviceId, std::string> names_;
};

void sendTo(MeshSlice& mesh, const Roster& roster, const std::string& rest) {
  std::istringstream in(rest);
  std::string name, text;
  in >> name;
  std::getline(in >> std::ws, text);
  auto id = roster.find(name);
  if (!id) return say("error: no peer named " + name);
  Status st = mesh.send(*id, kChatNamespace, asBytes(text));
  say(st.isOk() ? "(sent to " + name + ")" : "error: " + st.message());
}

}  // namespace

int main(int argc, char** argv) {
  ExampleArgs args = parseArgs(argc, argv, "chat");
  Roster roster;  // declared first: it must outlive the mesh's loop
  MeshSliceOptions options;
  options.node = nodeOptions(args);
  MeshSlice mesh(loadIdentity(args), *args.secret, options);  // no store: the bus only
  mesh.addObserver(&roster);  // before start(): no join is missed
  if (Status st = mesh.start(); !st.isOk()) {
    std::fprintf(stderr, "chat: %s\n", st.toString().c_str());
    return 1;
  }
  // The handler runs on the loop thread for as long as `subscription` lives.
  auto subscription = mesh.subscribe(kChatNamespace, [&](const BusMessageEvent& m) {
    say("<" + roster.nameOf(m.from) + "> " + toString(m.payload));
  });
  if (!subscription) return 1;
  say("chat: " + args.name + " [" + mesh.id().shortString() + "] listening on " + mesh.listenAddress());

  CommandReader commands(args);
  std::string line;
  while (commands.next(line)) {
    if (line.empty()) continue;
    if (line == "/peers") {
      std::string out = "peers:";
      for (const PeerInfo& p : mesh.peers()) out += " " + p.name;
      say(out);
    } else if (line.rfind("/to ", 0) == 0) {
      sendTo(mesh, roster, line.substr(4));
    } else {
      auto sent = mesh.publish(kChatNamespace, asBytes(line));
      say(sent ? "(sent to " + std::to_string(sent->reached.size()) + ")" : "error: " + sent.status().message());
    }
  }
  mesh.stop();  // goodbyes, then the observer is no longer called
  subscription->reset();  // after stop() it does nothing (before, it would touch the loop's bus)
  say("stopped");
  return 0;
}
