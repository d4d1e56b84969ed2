// todo: every device owns one todo list and sees every other device's list live. A device's
// list disappears from the others when it goes offline (goodbye, crash, cable pulled).
//
//   INVITE=$(build/examples/todo --new-invite)
//   build/examples/todo --name alice --invite $INVITE --listen 127.0.0.1:7001 --peer 127.0.0.1:7002
//   build/examples/todo --name bob   --invite $INVITE --listen 127.0.0.1:7002 --peer 127.0.0.1:7001
//
// Commands on stdin: add TEXT | done N | undo N | rm N | show | quit
// Output: "list NAME: ..." whenever a device's list changes, "gone NAME (REASON)" when one
// leaves, and for "show" a "board:" block ending with "end".
//
// The store here is written by hand: TodoStore implements ISyncableStore itself (the classic
// todo store) to show how an application maps its own model onto the interface. For plain
// values SyncedStore<T> does all of this (see presence.cc).
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include <msgpack.hpp>

#include "examples/common/example_cli.h"
#include "store/mesh_slice.h"
#include "store/slice_table.h"
#include "store/synced_store.h"  // MsgpackCodec: bounded decoding of untrusted slice data

using namespace meshslice;
using namespace meshslice::examples;

namespace {

struct TodoItem {
  std::string text;
  bool done = false;
  MSGPACK_DEFINE(text, done);
};

struct TodoList {
  std::string owner;  // the owner's display name, so viewers can label the list
  std::vector<TodoItem> items;
  MSGPACK_DEFINE(owner, items);
};

std::string describe(const TodoList& list) {
  if (list.items.empty()) return "empty";
  std::string out = std::to_string(list.items.size()) + (list.items.size() == 1 ? " item: " : " items: ");
  for (size_t i = 0; i < list.items.size(); ++i) {
    if (i) out += " | ";
    out += (list.items[i].done ? "[x] " : "[ ] ") + list.items[i].text;
  }
  return out;
}

int64_t wallMillis() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// The application's model, kept as an ISyncableStore. The adapter calls the ISyncableStore
// methods on the node's loop thread; edit() and lists() are for the UI, from any thread.
// `on_change` is the "render" hook: it runs outside the lock, on the loop thread for peers'
// changes and on the editing thread for local ones.
class TodoStore final : public ISyncableStore {
 public:
  enum class Change { kMine, kPeerUpdated, kPeerGone };
  using OnChange = std::function<void(Change, const DeviceId&, const TodoList&, LeaveReason)>;

  TodoStore(DeviceId me, std::string my_name, OnChange on_change)
      : table_(me), on_change_(std::move(on_change)) {
    mine_.owner = std::move(my_name);
  }

  // Changes this device's list. Encodes it, stamps the next version and tells the adapter.
  Status edit(const std::function<Status(TodoList&)>& change) {
    TodoList copy;
    {
      std::lock_guard lock(mutex_);
      copy = mine_;
      MS_RETURN_IF_ERROR(change(copy));
      auto data = MsgpackCodec<TodoList>::encode(copy);
      if (!data) return data.status();
      if (data->size() > kMaxSliceData) return tooLarge("the list is too long to sync");
      table_.commitLocal(table_.nextLocal(std::move(data).value(), wallMillis()));
      mine_ = copy;
    }
    notifyAdapter();
    on_change_(Change::kMine, table_.localDevice(), copy, LeaveReason::kStopped);
    return Status::ok();
  }

  // Every list held, this device's first.
  std::vector<std::pair<DeviceId, TodoList>> lists() const {
    std::lock_guard lock(mutex_);
    std::vector<std::pair<DeviceId, TodoList>> out{{table_.localDevice(), mine_}};
    for (const auto& [id, list] : theirs_) out.emplace_back(id, list);
    return out;
  }

  // ---- ISyncableStore: what the adapter needs ----
  const std::string& storeId() const override { return id_; }

  DeviceSlice localSlice() const override {
    std::lock_guard lock(mutex_);
    return table_.local();
  }

  ApplyResult applyRemoteSlice(const DeviceSlice& slice) override {
    {
      std::lock_guard lock(mutex_);
      if (!table_.isNewer(slice)) return ApplyResult::kStale;
    }
    // Peer data is untrusted: decode with the library's bounded msgpack reader.
    auto list = MsgpackCodec<TodoList>::decode(slice.data);
    if (!list) return ApplyResult::kRejected;
    {
      std::lock_guard lock(mutex_);
      table_.putRemote(slice);
      theirs_[slice.device_id] = *list;
    }
    on_change_(Change::kPeerUpdated, slice.device_id, *list, LeaveReason::kStopped);
    return ApplyResult::kApplied;
  }

  void removeRemoteSlice(const DeviceId& device, LeaveReason reason) override {
    TodoList gone;
    {
      std::lock_guard lock(mutex_);
      if (!table_.removeRemote(device)) return;
      gone = std::move(theirs_[device]);
      theirs_.erase(device);
    }
    on_change_(Change::kPeerGone, device, gone, reason);
  }

  void clearRemoteSlices() override {
    std::vector<std::pair<DeviceId, TodoList>> gone;
    {
      std::lock_guard lock(mutex_);
      table_.clearRemote();
      gone.assign(theirs_.begin(), theirs_.end());
      theirs_.clear();
    }
    for (auto& [id, list] : gone) on_change_(Change::kPeerGone, id, list, LeaveReason::kStopped);
  }

  std::vector<HeldVersion> remoteVersions() const override {
    std::lock_guard lock(mutex_);
    return table_.remoteVersions();
  }

  void setLocalChangeListener(std::function<void()> listener) override {
    std::lock_guard lock(listener_mutex_);  // waits out a call in progress (the contract)
    on_local_change_ = std::move(listener);
  }

  // A peer remembers our list at a version from an earlier run: move above it.
  // (Nothing is persisted here, so nothing can fail.)
  Status raiseLocalVersionAbove(uint64_t version) override {
    {
      std::lock_guard lock(mutex_);
      if (table_.local().version > version) return Status::ok();
      table_.raiseFloor(version);
      if (table_.local().version == 0) return Status::ok();  // the next edit lands above it
      table_.commitLocal(table_.restampedLocal(version, wallMillis()));
    }
    notifyAdapter();
    return Status::ok();
  }

 private:
  void notifyAdapter() {
    std::lock_guard lock(listener_mutex_);
    if (on_local_change_) on_local_change_();
  }

  const std::string id_ = "todo";
  mutable std::mutex mutex_;
  SliceTable table_;
  TodoList mine_;
  std::map<DeviceId, TodoList> theirs_;
  std::mutex listener_mutex_;
  std::function<void()> on_local_change_;
  OnChange on_change_;
};

// "done 2" -> index 1 of the list, or an error naming the problem.
Result<size_t> itemIndex(const TodoList& list, const std::string& arg) {
  char* end = nullptr;
  long n = std::strtol(arg.c_str(), &end, 10);
  if (arg.empty() || *end || n < 1 || static_cast<size_t>(n) > list.items.size()) {
    return invalidArgument("no item " + arg + " (the list has " + std::to_string(list.items.size()) + ")");
  }
  return static_cast<size_t>(n - 1);
}

Status runCommand(TodoStore& store, const std::string& cmd, const std::string& arg) {
  if (cmd == "add") {
    if (arg.empty()) return invalidArgument("add what?");
    return store.edit([&](TodoList& l) {
      l.items.push_back({arg, false});
      return Status::ok();
    });
  }
  if (cmd == "done" || cmd == "undo" || cmd == "rm") {
    return store.edit([&](TodoList& l) {
      auto i = itemIndex(l, arg);
      if (!i) return i.status();
      if (cmd == "rm") l.items.erase(l.items.begin() + static_cast<ptrdiff_t>(*i));
      else l.items[*i].done = cmd == "done";
      return Status::ok();
    });
  }
  if (cmd == "show") {
    say("board:");
    for (const auto& [id, list] : store.lists()) say("  " + list.owner + " [" + id.shortString() + "]: " + describe(list));
    say("end");
    return Status::ok();
  }
  return invalidArgument("unknown command " + cmd + " (add TEXT | done N | undo N | rm N | show | quit)");
}

}  // namespace

int main(int argc, char** argv) {
  ExampleArgs args = parseArgs(argc, argv, "todo");
  Identity identity = loadIdentity(args);

  // Names of the devices whose lists we show, for the "gone" line (the list is gone by then).
  std::mutex names_mutex;
  std::map<DeviceId, std::string> names;
  TodoStore store(identity.deviceId(), args.name,  // declared before the mesh: it outlives it
                  [&](TodoStore::Change change, const DeviceId& id, const TodoList& list, LeaveReason why) {
                    if (change == TodoStore::Change::kMine) {
                      say("list " + list.owner + " (this device): " + describe(list));
                    } else if (change == TodoStore::Change::kPeerUpdated) {
                      std::lock_guard lock(names_mutex);
                      names[id] = list.owner;
                      say("list " + list.owner + ": " + describe(list));
                    } else {
                      std::lock_guard lock(names_mutex);
                      say("gone " + names[id] + " (" + leaveReasonName(why) + "): list removed");
                    }
                  });
  if (Status st = store.edit([&](TodoList&) { return Status::ok(); }); !st.isOk()) return 1;  // an empty list

  MeshSliceOptions options;
  options.node = nodeOptions(args);
  MeshSlice mesh(std::move(identity), *args.secret, options);
  Status st = mesh.addStore(store);  // the adapter calls TodoStore on the loop thread from start() on
  if (st.isOk()) st = mesh.start();
  if (!st.isOk()) {
    std::fprintf(stderr, "todo: %s\n", st.toString().c_str());
    return 1;
  }
  say("todo: " + args.name + " [" + mesh.id().shortString() + "] listening on " + mesh.listenAddress());

  CommandReader commands(args);
  std::string line;
  while (commands.next(line)) {
    std::istringstream in(line);
    std::string cmd, arg;
    in >> cmd;
    std::getline(in >> std::ws, arg);
    if (cmd.empty()) continue;
    if (Status st = runCommand(store, cmd, arg); !st.isOk()) say("error: " + st.message());
  }
  mesh.stop();  // stops syncing, then goodbyes: the others drop our list at once
  say("stopped");
  return 0;
}
