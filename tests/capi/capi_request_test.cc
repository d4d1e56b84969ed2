// Requests and replies through the C API (ms_node_request, ms_node_serve, ms_responder_*):
// two nodes over real TCP on 127.0.0.1, driven the way a C program drives them.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "capi/meshslice.h"
#include "tests/support/waiter.h"

namespace meshslice {
namespace {

using test::Waiter;

struct Replies {
  Waiter* waiter = nullptr;
  std::map<std::string, std::pair<int, std::string>> got;  // tag -> (code, data or error)
};
struct Call {
  Replies* replies;
  std::string tag;
};

void onReply(void* user, const ms_reply* r) {
  auto* call = static_cast<Call*>(user);
  call->replies->waiter->update([&] {
    std::string text = r->code == MS_OK ? std::string(reinterpret_cast<const char*>(r->data), r->len) : r->error;
    call->replies->got[call->tag] = {r->code, text};
  });
  delete call;
}

// The serving side: answers "echo" at once, fails "fail", keeps "later" responders for the
// test thread to answer, and drops "drop" ones.
struct Server {
  Waiter* waiter = nullptr;
  std::vector<ms_responder*> kept;
  std::vector<std::string> seen;  // "from ns data"
};

void onRequest(void* user, const ms_message* m, ms_responder* r) {
  auto* server = static_cast<Server*>(user);
  std::string data(reinterpret_cast<const char*>(m->data), m->len);
  std::string ns = m->ns;
  if (ns == "echo") {
    std::string answer = "echo:" + data;
    EXPECT_EQ(ms_responder_reply(r, answer.data(), answer.size()), MS_OK);
  } else if (ns == "fail") {
    EXPECT_EQ(ms_responder_fail(r, "no way"), MS_OK);
  } else if (ns == "drop") {
    ms_responder_free(r);
  } else {
    server->waiter->update([&] { server->kept.push_back(r); });
  }
  server->waiter->update([&] { server->seen.push_back(std::string(m->from) + " " + ns + " " + data); });
}

std::string newInvite() {
  char buf[128];
  EXPECT_EQ(ms_invite_new(buf, sizeof buf, nullptr), MS_OK);
  return buf;
}

struct Joined {
  Waiter* waiter = nullptr;
  int count = 0;
};

void onPeer(void* user, const ms_peer_event* e) {
  auto* joined = static_cast<Joined*>(user);
  if (e->kind == MS_PEER_JOINED) joined->waiter->update([&] { ++joined->count; });
}

// With `joined`, a peer watch (made before the start: it sees every join) counts joins.
ms_node* startNode(const std::string& invite, const char* name, const char* peer, Joined* joined = nullptr,
                   ms_peer_watch** watch = nullptr) {
  ms_node_config cfg;
  ms_node_config_init(&cfg);
  cfg.name = name;
  cfg.invite = invite.c_str();
  cfg.static_peers = &peer;
  cfg.static_peer_count = peer ? 1 : 0;
  ms_node* n = nullptr;
  EXPECT_EQ(ms_node_new(&cfg, &n), MS_OK) << ms_last_error();
  if (joined) {
    EXPECT_EQ(ms_node_watch_peers(n, onPeer, joined, watch), MS_OK);
  }
  EXPECT_EQ(ms_node_start(n), MS_OK) << ms_last_error();
  return n;
}

TEST(CApiRequests, RequestsGetRepliesFailuresTimeoutsAndNoHandlerErrors) {
  Waiter w;
  const std::string invite = newInvite();
  ms_node* b = startNode(invite, "server", nullptr);
  char address[64], b_id[MS_DEVICE_ID_TEXT_LEN + 1];
  ASSERT_EQ(ms_node_listen_address(b, address, sizeof address, nullptr), MS_OK);
  ASSERT_EQ(ms_node_id(b, b_id, sizeof b_id, nullptr), MS_OK);
  Joined joined{&w, 0};
  ms_peer_watch* watch = nullptr;
  ms_node* a = startNode(invite, "client", address, &joined, &watch);
  char a_id[MS_DEVICE_ID_TEXT_LEN + 1];
  ASSERT_EQ(ms_node_id(a, a_id, sizeof a_id, nullptr), MS_OK);

  Server server{&w, {}, {}};
  std::vector<ms_service*> services;
  for (const char* ns : {"echo", "fail", "drop", "later"}) {
    ms_service* s = nullptr;
    ASSERT_EQ(ms_node_serve(b, ns, onRequest, &server, &s), MS_OK) << ms_last_error();
    services.push_back(s);
  }
  ms_service* reserved = nullptr;
  EXPECT_EQ(ms_node_serve(b, "ms.sync", onRequest, &server, &reserved), MS_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(reserved, nullptr);
  ASSERT_TRUE(w.waitFor([&] { return joined.count == 1; }, 10000)) << "the nodes did not link";

  Replies replies{&w, {}};
  auto request = [&](const char* ns, const std::string& data, uint32_t timeout_ms, const char* tag) {
    return ms_node_request(a, b_id, ns, data.data(), data.size(), timeout_ms, onReply, new Call{&replies, tag});
  };
  ASSERT_EQ(request("echo", "hi", 15000, "echo"), MS_OK);
  ASSERT_EQ(request("fail", "x", 15000, "fail"), MS_OK);
  ASSERT_EQ(request("nobody", "x", 15000, "nobody"), MS_OK);
  ASSERT_EQ(request("drop", "x", 300, "drop"), MS_OK);
  ASSERT_EQ(request("later", "first", 15000, "later"), MS_OK);
  // A reply from another thread than the loop's, after the handler returned.
  ASSERT_TRUE(w.waitFor([&] { return server.kept.size() == 1; }));
  ms_responder* kept = w.read([&] { return server.kept[0]; });
  ASSERT_EQ(ms_responder_reply(kept, "done", 4), MS_OK);
  ASSERT_TRUE(w.waitFor([&] { return replies.got.size() == 5; }, 20000)) << replies.got.size();
  w.read([&] {
    EXPECT_EQ(replies.got["echo"], std::make_pair(int{MS_OK}, std::string("echo:hi")));
    EXPECT_EQ(replies.got["fail"].first, MS_ERR_INTERNAL);
    EXPECT_NE(replies.got["fail"].second.find("no way"), std::string::npos) << replies.got["fail"].second;
    EXPECT_EQ(replies.got["nobody"].first, MS_ERR_NOT_FOUND);
    EXPECT_EQ(replies.got["drop"].first, MS_ERR_TIMEOUT);
    EXPECT_EQ(replies.got["later"], std::make_pair(int{MS_OK}, std::string("done")));
    EXPECT_EQ(server.seen.size(), 4u) << "the unserved namespace reached no handler";
    EXPECT_EQ(server.seen[0], std::string(a_id) + " echo hi");
    return 0;
  });

  // Calls that fail at once never call back.
  int calls_before = static_cast<int>(replies.got.size());
  char stranger[MS_DEVICE_ID_TEXT_LEN + 1];
  ASSERT_EQ(ms_node_id(a, stranger, sizeof stranger, nullptr), MS_OK);  // itself: not a linked peer
  auto* unused = new Call{&replies, "never"};
  EXPECT_EQ(ms_node_request(a, stranger, "echo", "x", 1, 1000, onReply, unused), MS_ERR_NOT_FOUND);
  EXPECT_EQ(ms_node_request(a, b_id, "echo", "x", 1, 0, onReply, unused), MS_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(ms_node_request(a, "not-an-id", "echo", "x", 1, 1000, onReply, unused), MS_ERR_INVALID_ARGUMENT);
  delete unused;

  // A freed service answers nothing any more.
  ms_service_free(services[0]);
  ASSERT_EQ(request("echo", "again", 15000, "after-free"), MS_OK);
  ASSERT_TRUE(w.waitFor([&] { return replies.got.count("after-free") == 1; }, 20000));
  EXPECT_EQ(w.read([&] { return replies.got["after-free"].first; }), MS_ERR_NOT_FOUND);
  EXPECT_EQ(static_cast<int>(w.read([&] { return replies.got.size(); })), calls_before + 1);

  // A request pending when this node stops is answered with MS_ERR_CLOSED; the server's
  // responder, answered after the requester left, is released all the same.
  ASSERT_EQ(request("later", "second", 60000, "pending"), MS_OK);
  ASSERT_TRUE(w.waitFor([&] { return server.kept.size() == 2; }));
  ASSERT_EQ(ms_node_stop(a), MS_OK);
  ASSERT_TRUE(w.waitFor([&] { return replies.got.count("pending") == 1; }));
  EXPECT_EQ(w.read([&] { return replies.got["pending"].first; }), MS_ERR_CLOSED);
  EXPECT_EQ(ms_responder_reply(w.read([&] { return server.kept[1]; }), "late", 4), MS_OK);
  ms_peer_watch_free(watch);
  ms_node_free(a);
  for (size_t i = 1; i < services.size(); ++i) ms_service_free(services[i]);
  ms_node_free(b);  // no service or responder left: does not abort
}

}  // namespace
}  // namespace meshslice
