// embed_loop: a node running on the application's own uv_loop_t. The application creates and
// runs the loop; its own handles (stdin, a UI refresh timer, signal handlers) and the node's
// share the one thread. So application code may use the node's loop-thread API directly
// (node.core(), the store adapter): no locks, no blocking calls, no second thread.
//
//   INVITE=$(build/examples/embed_loop --new-invite)
//   build/examples/embed_loop --name alice --invite $INVITE --listen 127.0.0.1:7001 --peer 127.0.0.1:7002
//   build/examples/embed_loop --name bob   --invite $INVITE --listen 127.0.0.1:7002 --peer 127.0.0.1:7001
//
// Commands on stdin (read by the loop itself): note TEXT | quit. SIGINT/SIGTERM and --run-for
// stop it too. Output: "joined NAME", "left NAME (REASON)", "peers: N" when the count changes,
// "note from NAME: TEXT", and at the end "loop closed cleanly" once uv_loop_close() succeeded.
#include <uv.h>

#include <csignal>
#include <map>
#include <memory>
#include <string>

#include "examples/common/example_cli.h"
#include "mesh/mesh_node.h"
#include "store/store_sync_adapter.h"
#include "store/synced_store.h"

using namespace meshslice;
using namespace meshslice::examples;

namespace {

struct Note {
  std::string name;
  std::string text;
  MSGPACK_DEFINE(name, text);
};
using NoteStore = SyncedStore<Note>;

constexpr uint64_t kRefreshMs = 100;     // the "UI" refresh period
constexpr uint64_t kReapPollMs = 5;      // how often shutdown checks that the node finished

// Everything runs on the thread that calls uv_run(loop). The handles are members: they live
// until uv_run returned, so every close callback has run before they go away.
class App final : public PeerObserver {
 public:
  App(uv_loop_t* loop, const ExampleArgs& args) : loop_(loop), args_(args) {
    MeshNodeOptions options = nodeOptions(args);
    options.host_loop = loop;  // the one line that makes it embedded
    node_ = std::make_unique<MeshNode>(loadIdentity(args), *args.secret, options);
    store_ = std::make_unique<NoteStore>("notes", node_->id());
  }

  bool start() {
    node_->addObserver(this);
    if (Status st = node_->start(); !st.isOk()) {  // on the loop's thread: returns at once
      std::fprintf(stderr, "embed_loop: %s\n", st.toString().c_str());
      return false;
    }
    // Already on the loop thread: make the adapter directly, no node.call().
    sync_ = std::make_unique<StoreSyncAdapter>(node_->env(), node_->core());
    if (!sync_->addStore(*store_).isOk()) return false;
    events_ = store_->listen([](const NoteStore::Event& e) {
      if (const auto* u = std::get_if<NoteStore::PeerUpdated>(&e)) say("note from " + u->value.name + ": " + u->value.text);
    });
    say("embed_loop: " + args_.name + " [" + node_->id().shortString() + "] on the application's loop, listening on " +
        node_->listenAddress());
    startAppHandles();
    return true;
  }

  // PeerObserver: called on the loop thread, like everything here, so `names_` needs no lock.
  void onPeerJoined(const PeerJoined& e) override {
    names_[e.peer.id] = e.peer.name;
    say("joined " + e.peer.name);
  }
  void onPeerLeft(const PeerLeft& e) override {
    say("left " + names_[e.id] + " (" + leaveReasonName(e.reason) + ")");
    names_.erase(e.id);
  }

 private:
  void startAppHandles() {
    self(refresh_);
    uv_timer_init(loop_, &refresh_);
    uv_timer_start(&refresh_, [](uv_timer_t* t) { from(t)->refresh(); }, kRefreshMs, kRefreshMs);
    for (auto* s : {&sigint_, &sigterm_}) {
      self(*s);
      uv_signal_init(loop_, s);
    }
    uv_signal_start(&sigint_, [](uv_signal_t* s, int) { from(s)->quit(); }, SIGINT);
    uv_signal_start(&sigterm_, [](uv_signal_t* s, int) { from(s)->quit(); }, SIGTERM);
    if (args_.run_for_seconds > 0) {
      self(run_for_);
      uv_timer_init(loop_, &run_for_);
      uv_timer_start(&run_for_, [](uv_timer_t* t) { from(t)->quit(); },
                     static_cast<uint64_t>(args_.run_for_seconds * 1000), 0);
    }
    openStdin();
  }

  // stdin as a libuv stream: a pipe (tests, shell pipes) or a terminal. A file or /dev/null
  // is not a stream; then only signals and --run-for end the program.
  void openStdin() {
    uv_handle_type type = uv_guess_handle(0);
    if (type == UV_NAMED_PIPE) {
      uv_pipe_init(loop_, &stdin_.pipe, 0);
      uv_pipe_open(&stdin_.pipe, 0);
    } else if (type == UV_TTY) {
      uv_tty_init(loop_, &stdin_.tty, 0, 1);
    } else {
      return;
    }
    stdin_open_ = true;
    auto* stream = reinterpret_cast<uv_stream_t*>(&stdin_);
    stream->data = this;
    uv_read_start(stream,
                  [](uv_handle_t*, size_t suggested, uv_buf_t* buf) {
                    buf->base = new char[suggested];
                    buf->len = suggested;
                  },
                  [](uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
                    std::unique_ptr<char[]> owned(buf->base);
                    static_cast<App*>(s->data)->onInput(n, buf->base);
                  });
  }

  void onInput(ssize_t n, const char* data) {
    if (n < 0) {  // EOF: with --run-for keep running until then
      closeStdin();
      if (args_.run_for_seconds <= 0) quit();
      return;
    }
    input_.append(data, static_cast<size_t>(n));
    for (size_t nl; !quitting_ && (nl = input_.find('\n')) != std::string::npos;) {
      std::string line = input_.substr(0, nl);
      input_.erase(0, nl + 1);
      if (line == "quit") quit();
      else if (line.rfind("note ", 0) == 0) store_->set({args_.name, line.substr(5)}).ignore();
      else if (!line.empty()) say("error: unknown command (note TEXT | quit)");
    }
  }

  // The UI refresh: reads the node's state directly (loop thread), shows changes only.
  void refresh() {
    size_t peers = node_->core().peers().size();
    if (peers == shown_peers_) return;
    shown_peers_ = peers;
    say("peers: " + std::to_string(peers));
  }

  // Graceful shutdown, all on the loop: stop syncing, stop the node (goodbyes go out as the
  // loop keeps running), close our handles, and destroy the node once it finished.
  void quit() {
    if (quitting_) return;
    quitting_ = true;
    events_.reset();
    sync_.reset();
    node_->removeObserver(this);
    node_->stop();
    closeStdin();
    for (uv_handle_t* h : {handle(refresh_), handle(sigint_), handle(sigterm_)}) uv_close(h, nullptr);
    if (args_.run_for_seconds > 0) uv_close(handle(run_for_), nullptr);
    self(reap_);
    uv_timer_init(loop_, &reap_);
    uv_timer_start(&reap_, [](uv_timer_t* t) { from(t)->reap(); }, 0, kReapPollMs);
  }

  void reap() {
    if (!node_->stopped()) return;
    node_.reset();  // releases the node's last handle; uv_run returns when it has closed
    uv_close(handle(reap_), nullptr);
  }

  void closeStdin() {
    if (!stdin_open_) return;
    stdin_open_ = false;
    uv_close(reinterpret_cast<uv_handle_t*>(&stdin_), nullptr);
  }

  template <typename H>
  void self(H& h) { h.data = this; }
  template <typename H>
  static App* from(H* h) { return static_cast<App*>(h->data); }
  template <typename H>
  static uv_handle_t* handle(H& h) { return reinterpret_cast<uv_handle_t*>(&h); }

  uv_loop_t* loop_;
  const ExampleArgs& args_;
  std::unique_ptr<MeshNode> node_;
  std::unique_ptr<NoteStore> store_;
  std::unique_ptr<StoreSyncAdapter> sync_;
  ListenerHandle events_;
  std::map<DeviceId, std::string> names_;
  uv_timer_t refresh_{}, run_for_{}, reap_{};
  uv_signal_t sigint_{}, sigterm_{};
  union {
    uv_pipe_t pipe;
    uv_tty_t tty;
  } stdin_{};
  bool stdin_open_ = false;
  std::string input_;
  size_t shown_peers_ = SIZE_MAX;
  bool quitting_ = false;
};

}  // namespace

int main(int argc, char** argv) {
  ExampleArgs args = parseArgs(argc, argv, "embed_loop");
  uv_loop_t loop;  // the application's loop
  uv_loop_init(&loop);
  {
    App app(&loop, args);
    if (!app.start()) return 1;
    uv_run(&loop, UV_RUN_DEFAULT);  // the application's main loop; returns once all is closed
  }
  int rc = uv_loop_close(&loop);
  say(rc == 0 ? "loop closed cleanly" : std::string("loop still busy: ") + uv_strerror(rc));
  return rc == 0 ? 0 : 1;
}
