// The C API (capi/meshslice.h) driven the way a C program drives it: two nodes over real TCP
// on 127.0.0.1 exchange store values and bus messages, see each other leave, and the rules of
// the header (errors, buffers, callbacks that call back in, host loops) hold.
#include "capi/meshslice.h"

#include <gtest/gtest.h>
#include <uv.h>

#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "base/event_loop.h"
#include "mesh/mesh_node.h"
#include "store/sync_message.h"
#include "tests/support/loop_helpers.h"
#include "tests/support/waiter.h"

namespace meshslice {
namespace {

using test::Waiter;

std::string newInvite() {
  char buf[128];
  EXPECT_EQ(ms_invite_new(buf, sizeof buf, nullptr), MS_OK);
  return buf;
}

std::string nodeId(const ms_node* n) {
  char buf[MS_DEVICE_ID_TEXT_LEN + 1];
  EXPECT_EQ(ms_node_id(n, buf, sizeof buf, nullptr), MS_OK);
  return buf;
}

std::string listenAddress(const ms_node* n) {
  char buf[64];
  EXPECT_EQ(ms_node_listen_address(n, buf, sizeof buf, nullptr), MS_OK) << ms_last_error();
  return buf;
}

// What a node's callbacks saw; written on its loop thread, read by the test.
struct Seen {
  Waiter* waiter = nullptr;
  std::map<std::string, std::string> values;  // device -> value (store events)
  std::map<std::string, std::string> removed; // device -> reason
  std::vector<std::string> messages;          // "from-prefix ns payload"
  std::vector<std::string> joined, left;
};

void onStoreEvent(void* user, const ms_store_event* e) {
  auto* seen = static_cast<Seen*>(user);
  seen->waiter->update([&] {
    if (e->kind == MS_STORE_PEER_UPDATED) {
      seen->values[e->slice.device_id] = std::string(reinterpret_cast<const char*>(e->slice.data), e->slice.len);
    } else {
      seen->values.erase(e->slice.device_id);
      seen->removed[e->slice.device_id] = e->reason;
    }
  });
}

void onMessage(void* user, const ms_message* m) {
  auto* seen = static_cast<Seen*>(user);
  seen->waiter->update([&] {
    seen->messages.push_back(std::string(m->from) + " " + m->ns + " " +
                             std::string(reinterpret_cast<const char*>(m->data), m->len));
  });
}

void onPeerEvent(void* user, const ms_peer_event* e) {
  auto* seen = static_cast<Seen*>(user);
  seen->waiter->update([&] {
    if (e->kind == MS_PEER_JOINED) seen->joined.push_back(std::string(e->peer.name));
    if (e->kind == MS_PEER_LEFT) seen->left.push_back(std::string(e->peer.device_id) + " " + e->reason);
  });
}

// Like Waiter::waitFor, but re-checks every 20 ms too: for state that can change without an
// event this test sees (a value that arrived before the listener was registered).
bool eventually(Waiter& w, const std::function<bool()>& pred) {
  for (int i = 0; i < 500; ++i)
    if (w.waitFor(pred, 20)) return true;
  return false;
}

std::string valueOf(ms_store* store, const std::string& device) {
  char buf[256];
  size_t len = 0;
  return ms_store_get(store, device.c_str(), buf, sizeof buf, &len) == MS_OK ? std::string(buf, len) : "";
}

ms_node* makeNode(const std::string& invite, const char* name, const std::vector<std::string>& peers = {}) {
  std::vector<const char*> peer_ptrs;
  for (const auto& p : peers) peer_ptrs.push_back(p.c_str());
  ms_node_config cfg;
  ms_node_config_init(&cfg);
  cfg.name = name;
  cfg.invite = invite.c_str();
  cfg.static_peers = peer_ptrs.data();
  cfg.static_peer_count = peer_ptrs.size();
  ms_node* n = nullptr;
  EXPECT_EQ(ms_node_new(&cfg, &n), MS_OK) << ms_last_error();
  return n;
}

TEST(CApi, InvitesRoundTripAndBadOnesAreRejectedWithAMessage) {
  std::string invite = newInvite();
  EXPECT_EQ(invite.rfind("msm1-", 0), 0u);
  EXPECT_EQ(ms_invite_check(invite.c_str()), MS_OK);
  invite.back() = invite.back() == 'a' ? 'b' : 'a';
  EXPECT_EQ(ms_invite_check(invite.c_str()), MS_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(ms_last_error()), "");
  EXPECT_STREQ(ms_error_name(MS_ERR_INVALID_ARGUMENT), "invalid-argument");
  EXPECT_STREQ(ms_error_name(MS_ERR_BUFFER_TOO_SMALL), "buffer-too-small");
  EXPECT_NE(std::string(ms_version()), "");
}

TEST(CApi, NodeNewFailsWithoutAValidInviteAndReturnsNoHandle) {
  ms_node_config cfg;
  ms_node_config_init(&cfg);
  ms_node* n = nullptr;
  EXPECT_EQ(ms_node_new(&cfg, &n), MS_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(n, nullptr);
  cfg.invite = "msm1-not-an-invite";
  EXPECT_EQ(ms_node_new(&cfg, &n), MS_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(n, nullptr);
  EXPECT_NE(std::string(ms_last_error()).find("invite"), std::string::npos) << ms_last_error();
}

TEST(CApi, TextBuffersReportTheLengthTheyNeed) {
  ms_node* n = makeNode(newInvite(), "small");
  char tiny[8];
  size_t len = 0;
  EXPECT_EQ(ms_node_id(n, tiny, sizeof tiny, &len), MS_ERR_BUFFER_TOO_SMALL);
  EXPECT_EQ(len, size_t{MS_DEVICE_ID_TEXT_LEN});
  char exact[MS_DEVICE_ID_TEXT_LEN + 1];
  EXPECT_EQ(ms_node_id(n, exact, sizeof exact, &len), MS_OK);
  EXPECT_EQ(std::strlen(exact), size_t{MS_DEVICE_ID_TEXT_LEN});
  EXPECT_EQ(ms_node_listen_address(n, exact, sizeof exact, &len), MS_ERR_CLOSED);  // not started
  ms_node_free(n);
}

TEST(CApi, IdentityInAStateDirectorySurvivesRestarts) {
  char dir_template[] = "/tmp/ms_capi_XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const std::string state = std::string(dir_template) + "/state";
  char first[64], second[64];
  ASSERT_EQ(ms_identity_load_or_create(state.c_str(), "dev", first, sizeof first, nullptr), MS_OK) << ms_last_error();
  ASSERT_EQ(ms_identity_load_or_create(state.c_str(), "other", second, sizeof second, nullptr), MS_OK);
  EXPECT_STREQ(first, second);
  std::string invite = newInvite();
  ms_node_config cfg;
  ms_node_config_init(&cfg);
  cfg.invite = invite.c_str();
  cfg.state_dir = state.c_str();
  ms_node* n = nullptr;
  ASSERT_EQ(ms_node_new(&cfg, &n), MS_OK);
  EXPECT_EQ(nodeId(n), first);
  ms_node_free(n);
  std::filesystem::remove_all(dir_template);
}

TEST(CApi, StoresWorkLocallyBeforeTheNodeStarts) {
  ms_node* n = makeNode(newInvite(), "local");
  ms_store* s = nullptr;
  ASSERT_EQ(ms_store_new(n, "notes", &s), MS_OK);
  ms_store* dup = nullptr;
  EXPECT_EQ(ms_store_new(n, "notes", &dup), MS_ERR_ALREADY_EXISTS);
  EXPECT_EQ(ms_store_new(n, "bad id!", &dup), MS_ERR_INVALID_ARGUMENT);
  size_t len = 99;
  EXPECT_EQ(ms_store_get(s, nullptr, nullptr, 0, &len), MS_ERR_NOT_FOUND);
  ASSERT_EQ(ms_store_set(s, "hello\0world", 11), MS_OK);
  EXPECT_EQ(ms_store_get(s, nullptr, nullptr, 0, &len), MS_ERR_BUFFER_TOO_SMALL);
  EXPECT_EQ(len, 11u);
  char buf[11];
  ASSERT_EQ(ms_store_get(s, nullptr, buf, sizeof buf, &len), MS_OK);
  EXPECT_EQ(std::string(buf, len), std::string("hello\0world", 11));
  uint8_t* copy = nullptr;
  ASSERT_EQ(ms_store_get_alloc(s, nodeId(n).c_str(), &copy, &len), MS_OK);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(copy), len), std::string("hello\0world", 11));
  ms_free(copy);
  EXPECT_EQ(ms_store_get(s, "not-a-device", buf, sizeof buf, &len), MS_ERR_INVALID_ARGUMENT);
  size_t count = 0;
  ASSERT_EQ(ms_store_each(s, nullptr, nullptr, &count), MS_OK);
  EXPECT_EQ(count, 1u);
  EXPECT_EQ(ms_node_publish(n, "chat", "x", 1, nullptr), MS_ERR_CLOSED);
  ms_store_free(s);
  ms_node_free(n);
}

TEST(CApi, TwoNodesOnLoopbackExchangeStoreValuesAndMessagesAndSeeTheOtherLeave) {
  Waiter w;
  Seen seen_a, seen_b;
  seen_a.waiter = seen_b.waiter = &w;
  const std::string invite = newInvite();

  ms_node* a = makeNode(invite, "alpha");
  ms_peer_watch* watch_a = nullptr;
  ASSERT_EQ(ms_node_watch_peers(a, onPeerEvent, &seen_a, &watch_a), MS_OK);
  ms_store* store_a = nullptr;
  ASSERT_EQ(ms_store_new(a, "presence", &store_a), MS_OK);  // before start: syncs from the start
  ms_store_listener* listen_a = nullptr;
  ASSERT_EQ(ms_store_listen(store_a, onStoreEvent, &seen_a, &listen_a), MS_OK);
  ASSERT_EQ(ms_store_set(store_a, "alpha-here", 10), MS_OK);
  ASSERT_EQ(ms_node_start(a), MS_OK) << ms_last_error();
  EXPECT_EQ(ms_node_start(a), MS_ERR_ALREADY_EXISTS);
  ms_subscription* sub_a = nullptr;
  ASSERT_EQ(ms_node_subscribe(a, "chat", onMessage, &seen_a, &sub_a), MS_OK);

  ms_node* b = makeNode(invite, "bravo", {listenAddress(a)});
  ASSERT_EQ(ms_node_start(b), MS_OK) << ms_last_error();
  ms_store* store_b = nullptr;
  ASSERT_EQ(ms_store_new(b, "presence", &store_b), MS_OK);  // after start
  ms_store_listener* listen_b = nullptr;
  ASSERT_EQ(ms_store_listen(store_b, onStoreEvent, &seen_b, &listen_b), MS_OK);
  ASSERT_EQ(ms_store_set(store_b, "bravo-here", 10), MS_OK);
  const std::string id_a = nodeId(a), id_b = nodeId(b);

  // B's listener came after B's store joined the mesh: A's value may have arrived before it.
  ASSERT_TRUE(eventually(w, [&] { return seen_a.values[id_b] == "bravo-here" && valueOf(store_b, id_a) == "alpha-here"; }))
      << "store values did not cross";
  EXPECT_EQ(w.read([&] { return seen_a.joined; }), std::vector<std::string>{"bravo"});
  std::vector<std::string> peer_names;
  size_t count = 0;
  ASSERT_EQ(ms_node_peers(b, [](void* u, const ms_peer_info* p) {
    static_cast<std::vector<std::string>*>(u)->push_back(p->name);
  }, &peer_names, &count), MS_OK);
  EXPECT_EQ(count, 1u);
  EXPECT_EQ(peer_names, std::vector<std::string>{"alpha"});

  size_t reached = 0;
  ASSERT_EQ(ms_node_publish(b, "chat", "hi all", 6, &reached), MS_OK);
  EXPECT_EQ(reached, 1u);
  ASSERT_EQ(ms_node_send(b, id_a.c_str(), "chat", "just you", 8), MS_OK);
  ASSERT_TRUE(w.waitFor([&] { return seen_a.messages.size() == 2; }));
  EXPECT_EQ(seen_a.messages[0], id_b + " chat hi all");
  EXPECT_EQ(seen_a.messages[1], id_b + " chat just you");
  EXPECT_EQ(ms_node_publish(b, "ms.sync", "x", 1, nullptr), MS_ERR_INVALID_ARGUMENT);  // reserved

  uint8_t* value = nullptr;
  size_t len = 0;
  ASSERT_EQ(ms_store_get_alloc(store_a, id_b.c_str(), &value, &len), MS_OK);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(value), len), "bravo-here");
  ms_free(value);
  ASSERT_EQ(ms_store_each(store_a, nullptr, nullptr, &count), MS_OK);
  EXPECT_EQ(count, 2u);

  // B stops gracefully: A drops B's value with the reason and sees B leave.
  ms_store_listener_free(listen_b);
  ms_store_free(store_b);
  ASSERT_EQ(ms_node_stop(b), MS_OK);
  EXPECT_EQ(ms_node_stopped(b), 1);
  ms_node_free(b);
  ASSERT_TRUE(w.waitFor([&] { return seen_a.removed.count(id_b) == 1 && seen_a.left.size() == 1; }));
  EXPECT_EQ(w.read([&] { return seen_a.removed[id_b]; }), "goodbye");
  EXPECT_EQ(w.read([&] { return seen_a.left[0]; }), id_b + " goodbye");
  EXPECT_EQ(ms_store_get(store_a, id_b.c_str(), nullptr, 0, &len), MS_ERR_NOT_FOUND);

  ms_subscription_free(sub_a);
  ms_store_listener_free(listen_a);
  ms_store_free(store_a);
  ms_peer_watch_free(watch_a);
  ms_node_free(a);
}

TEST(CApi, StoreDeleteTakesThisDevicesValueOffThePeersToo) {
  Waiter w;
  Seen seen_b;
  seen_b.waiter = &w;
  const std::string invite = newInvite();
  ms_node* a = makeNode(invite, "alpha");
  ASSERT_EQ(ms_node_start(a), MS_OK) << ms_last_error();
  ms_node* b = makeNode(invite, "bravo", {listenAddress(a)});
  ASSERT_EQ(ms_node_start(b), MS_OK) << ms_last_error();
  ms_store *store_a = nullptr, *store_b = nullptr;
  ASSERT_EQ(ms_store_new(a, "senosrs", &store_a), MS_OK);
  ASSERT_EQ(ms_store_new(b, "senosrs", &store_b), MS_OK);
  ms_store_listener* listen_b = nullptr;
  ASSERT_EQ(ms_store_listen(store_b, onStoreEvent, &seen_b, &listen_b), MS_OK);
  ASSERT_EQ(ms_store_set(store_a, "typo", 4), MS_OK);
  const std::string id_a = nodeId(a);
  ASSERT_TRUE(eventually(w, [&] { return valueOf(store_b, id_a) == "typo"; }));

  EXPECT_EQ(ms_store_delete(store_a), MS_OK);  // frees store_a
  ASSERT_TRUE(w.waitFor([&] { return seen_b.removed.count(id_a) == 1; }));
  EXPECT_EQ(w.read([&] { return seen_b.removed[id_a]; }), "removed") << "not a peer leaving";
  size_t len = 0;
  EXPECT_EQ(ms_store_get(store_b, id_a.c_str(), nullptr, 0, &len), MS_ERR_NOT_FOUND);
  size_t peers = 0;
  ASSERT_EQ(ms_node_peers(b, nullptr, nullptr, &peers), MS_OK);
  EXPECT_EQ(peers, 1u) << "a is still online";

  ms_store_listener_free(listen_b);
  ms_store_free(store_b);
  ms_node_free(b);
  ms_node_free(a);
}

// State for callbacks that call back into the library.
struct Reentry {
  Waiter* waiter = nullptr;
  ms_node* node = nullptr;
  ms_store* store = nullptr;
  ms_subscription* sub = nullptr;
  int start_code = -1, stop_code = -1, publish_code = -1, set_code = -1, peers_code = -1;
  size_t peers = 0;
  bool done = false;
};

TEST(CApi, CallbacksMayCallBackInAndFreeTheirOwnHandle) {
  Waiter w;
  const std::string invite = newInvite();
  ms_node* a = makeNode(invite, "a");
  ASSERT_EQ(ms_node_start(a), MS_OK);
  ms_node* b = makeNode(invite, "b", {listenAddress(a)});
  Seen seen_b;
  seen_b.waiter = &w;
  ms_peer_watch* watch_b = nullptr;
  ASSERT_EQ(ms_node_watch_peers(b, onPeerEvent, &seen_b, &watch_b), MS_OK);  // before start: sees the join
  ASSERT_EQ(ms_node_start(b), MS_OK);
  Reentry r;
  r.waiter = &w;
  r.node = a;
  ASSERT_EQ(ms_store_new(a, "echo", &r.store), MS_OK);
  ASSERT_EQ(ms_node_subscribe(a, "ping", [](void* user, const ms_message*) {
    auto* r = static_cast<Reentry*>(user);
    int start = ms_node_start(r->node), stop = ms_node_stop(r->node);
    int publish = ms_node_publish(r->node, "pong", "!", 1, nullptr);
    int set = ms_store_set(r->store, "pinged", 6);
    size_t peers = 0;
    int peers_code = ms_node_peers(r->node, nullptr, nullptr, &peers);
    ms_subscription_free(r->sub);  // its own handle, from inside its callback
    r->waiter->update([&] {
      r->start_code = start, r->stop_code = stop, r->publish_code = publish, r->set_code = set;
      r->peers_code = peers_code, r->peers = peers, r->done = true;
    });
  }, &r, &r.sub), MS_OK);

  ms_subscription* pong = nullptr;
  ASSERT_EQ(ms_node_subscribe(b, "pong", onMessage, &seen_b, &pong), MS_OK);
  ms_store* echo_b = nullptr;
  ASSERT_EQ(ms_store_new(b, "echo", &echo_b), MS_OK);
  ms_store_listener* listen_b = nullptr;
  ASSERT_EQ(ms_store_listen(echo_b, onStoreEvent, &seen_b, &listen_b), MS_OK);
  ASSERT_TRUE(w.waitFor([&] { return seen_b.joined.size() == 1; }));
  ms_peer_watch_free(watch_b);
  ASSERT_EQ(ms_node_publish(b, "ping", "?", 1, nullptr), MS_OK);
  ASSERT_TRUE(w.waitFor([&] { return r.done && seen_b.messages.size() == 1 && seen_b.values.size() == 1; }));
  EXPECT_EQ(r.start_code, MS_ERR_WRONG_THREAD);
  EXPECT_EQ(r.stop_code, MS_ERR_WRONG_THREAD);
  EXPECT_EQ(r.publish_code, MS_OK);
  EXPECT_EQ(r.set_code, MS_OK);
  EXPECT_EQ(r.peers_code, MS_OK);
  EXPECT_EQ(r.peers, 1u);
  EXPECT_EQ(w.read([&] { return seen_b.values.begin()->second; }), "pinged");

  ms_subscription_free(pong);
  ms_store_listener_free(listen_b);
  ms_store_free(echo_b);
  ms_store_free(r.store);
  ms_node_free(b);
  ms_node_free(a);
}

// A store freed inside its own event: the adapter is still inside applyRemoteSlice then.
struct SelfFree {
  Waiter* waiter = nullptr;
  ms_store* store = nullptr;
  ms_store_listener* listener = nullptr;
  bool freed = false;
};

TEST(CApi, AStoreMayBeFreedInsideItsOwnEvent) {
  Waiter w;
  const std::string invite = newInvite();
  ms_node* a = makeNode(invite, "a");
  ASSERT_EQ(ms_node_start(a), MS_OK);
  SelfFree sf;
  sf.waiter = &w;
  ASSERT_EQ(ms_store_new(a, "once", &sf.store), MS_OK);
  ASSERT_EQ(ms_store_listen(sf.store, [](void* user, const ms_store_event*) {
    auto* sf = static_cast<SelfFree*>(user);
    ms_store_listener_free(sf->listener);
    ms_store_free(sf->store);
    sf->waiter->update([&] { sf->freed = true; });
  }, &sf, &sf.listener), MS_OK);
  ms_node* b = makeNode(invite, "b", {listenAddress(a)});
  ms_store* once_b = nullptr;
  ASSERT_EQ(ms_store_new(b, "once", &once_b), MS_OK);
  ASSERT_EQ(ms_store_set(once_b, "v1", 2), MS_OK);
  ASSERT_EQ(ms_node_start(b), MS_OK);
  ASSERT_TRUE(w.waitFor([&] { return sf.freed; }));
  ASSERT_EQ(ms_store_set(once_b, "v2", 2), MS_OK);  // a store A no longer has: ignored there
  ms_store* again = nullptr;
  ASSERT_EQ(ms_store_new(a, "once", &again), MS_OK);  // the ID is free again
  ms_store_free(again);
  ms_store_free(once_b);
  ms_node_free(b);
  ms_node_free(a);
}

TEST(CApi, ANodeRunsOnTheApplicationsOwnLoop) {
  EventLoop host;  // the application's uv_loop_t
  Waiter w;
  const std::string invite = newInvite();
  ms_node* threaded = makeNode(invite, "threaded");
  ASSERT_EQ(ms_node_start(threaded), MS_OK);
  ms_store* store_t = nullptr;
  ASSERT_EQ(ms_store_new(threaded, "state", &store_t), MS_OK);
  ASSERT_EQ(ms_store_set(store_t, "from-thread", 11), MS_OK);
  Seen seen_t;
  seen_t.waiter = &w;
  ms_store_listener* listen_t = nullptr;
  ASSERT_EQ(ms_store_listen(store_t, onStoreEvent, &seen_t, &listen_t), MS_OK);
  std::string embedded_id;
  {
    const std::string peer = listenAddress(threaded);
    const char* peers[] = {peer.c_str()};
    ms_node_config cfg;
    ms_node_config_init(&cfg);
    cfg.name = "embedded";
    cfg.invite = invite.c_str();
    cfg.static_peers = peers;
    cfg.static_peer_count = 1;
    cfg.host_loop = host.uv();
    ms_node* e = nullptr;
    ASSERT_EQ(ms_node_new(&cfg, &e), MS_OK);
    ms_store* store_e = nullptr;
    ASSERT_EQ(ms_store_new(e, "state", &store_e), MS_OK);
    ASSERT_EQ(ms_node_start(e), MS_OK);  // on the loop's thread (this one)
    ASSERT_EQ(ms_store_set(store_e, "from-loop", 9), MS_OK);
    Seen seen_e;
    seen_e.waiter = &w;
    ms_store_listener* listen_e = nullptr;
    ASSERT_EQ(ms_store_listen(store_e, onStoreEvent, &seen_e, &listen_e), MS_OK);
    embedded_id = nodeId(e);
    ASSERT_TRUE(test::runUntil(host, [&] {
      return w.read([&] { return seen_e.values.size() == 1 && seen_t.values[embedded_id] == "from-loop"; });
    }));
    EXPECT_EQ(w.read([&] { return seen_e.values.begin()->second; }), "from-thread");
    size_t count = 0;
    ASSERT_EQ(ms_node_peers(e, nullptr, nullptr, &count), MS_OK);  // inline: no deadlock
    EXPECT_EQ(count, 1u);
    ms_store_listener_free(listen_e);
    ms_store_free(store_e);
    ASSERT_EQ(ms_node_stop(e), MS_OK);
    ASSERT_TRUE(test::runUntil(host, [&] { return ms_node_stopped(e) != 0; }));
    ms_node_free(e);
  }
  ASSERT_TRUE(w.waitFor([&] { return seen_t.removed.count(embedded_id) == 1; }));
  EXPECT_EQ(w.read([&] { return seen_t.removed[embedded_id]; }), "goodbye");
  ms_store_listener_free(listen_t);
  ms_store_free(store_t);
  ms_node_free(threaded);
  test::expectCleanClose(host);
}

// What a store error callback saw, written on the loop thread.
struct SeenErrors {
  Waiter* waiter = nullptr;
  std::vector<std::string> errors;  // "phase store device code message"
  size_t struct_size = 0;
};

void onStoreError(void* user, const ms_store_error* e) {
  auto* seen = static_cast<SeenErrors*>(user);
  seen->waiter->update([&] {
    seen->struct_size = e->struct_size;
    seen->errors.push_back(std::to_string(e->phase) + " [" + e->store_id + "] " + e->device_id + " " +
                           std::to_string(e->code) + (e->message[0] ? "" : " (no message)"));
  });
}

TEST(CApi, StoreErrorCallbackReportsAnUndecodableSyncMessageOnceWithThePeer) {
  Waiter w;
  SeenErrors seen;
  seen.waiter = &w;
  const std::string invite = newInvite();
  ms_node* a = makeNode(invite, "alpha");
  ASSERT_EQ(ms_node_set_store_error_cb(a, onStoreError, &seen), MS_OK);  // before start
  ms_store* store = nullptr;
  ASSERT_EQ(ms_store_new(a, "presence", &store), MS_OK);
  ASSERT_EQ(ms_node_start(a), MS_OK) << ms_last_error();
  const std::string id_a = nodeId(a);

  // A C++ peer of the same mesh, which can write to the library's own namespace.
  MeshNodeOptions options;
  options.mesh.static_peers = {listenAddress(a)};
  MeshNode peer(Identity::generate("bravo"), MeshSecret::fromInvite(invite).value(), options);
  ASSERT_TRUE(peer.start().isOk());
  const DeviceId a_id = DeviceId::parse(id_a).value();
  ASSERT_TRUE(eventually(w, [&] { return peer.call([&](MeshCore& core) { return core.isConnected(a_id); }); }));
  const Bytes junk = {0xc1};
  ASSERT_TRUE(peer.call([&](MeshCore& core) { return core.bus().sendReserved(a_id, kSyncNamespace, junk); }).isOk());

  ASSERT_TRUE(w.waitFor([&] { return !seen.errors.empty(); })) << "no store error reported";
  ASSERT_EQ(ms_node_set_store_error_cb(a, nullptr, nullptr), MS_OK);  // waits out a running call
  EXPECT_EQ(seen.errors, std::vector<std::string>{std::to_string(MS_STORE_PHASE_DECODE) + " [] " +
                                                  peer.id().toString() + " " + std::to_string(MS_ERR_MALFORMED)});
  EXPECT_EQ(seen.struct_size, sizeof(ms_store_error));

  peer.stop();
  ms_store_free(store);
  ms_node_free(a);
}

}  // namespace
}  // namespace meshslice
