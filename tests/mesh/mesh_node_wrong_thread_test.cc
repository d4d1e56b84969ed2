// A blocking MeshNode call made on the loop thread (from a callback) fails at once in every
// build: this file is compiled with NDEBUG, as a consumer's release build is, and the library's
// own members are compiled however the build type says. Before, an assert guarded it, and with
// NDEBUG the loop thread deadlocked on itself.
#ifndef NDEBUG
#define NDEBUG
#endif

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <stdexcept>

#include "mesh/mesh_node.h"
#include "tests/support/loop_helpers.h"

namespace meshslice {
namespace {

struct Outcome {
  Code send = Code::kOk, publish = Code::kOk, subscribe = Code::kOk, call_status = Code::kOk;
  std::string send_message, peers_error, call_error;
};

TEST(MeshNodeWrongThread, BlockingCallsFromTheLoopThreadFailLoudlyInsteadOfDeadlocking) {
  Key32 k;
  k.fill(0x5c);
  MeshNodeOptions o;
  o.mesh.listen_address = "127.0.0.1:0";
  MeshNode node(Identity::generate("solo"), MeshSecret::fromBytes(k), o);
  ASSERT_TRUE(node.start().isOk());
  std::promise<Outcome> done;
  node.post([&](MeshCore& core) {
    Outcome out;
    Status sent = node.send(core.local().id, "app", asBytes("x"));
    out.send = sent.code();
    out.send_message = sent.message();
    out.publish = node.publish("app", asBytes("x")).status().code();
    out.subscribe = node.subscribe("app", [](const BusMessageEvent&) {}).status().code();
    out.call_status = node.call([](MeshCore&) { return Status::ok(); }).code();
    try {
      (void)node.peers();
    } catch (const std::logic_error& e) {
      out.peers_error = e.what();
    }
    try {
      (void)node.call([](MeshCore&) { return 1; });
    } catch (const std::logic_error& e) {
      out.call_error = e.what();
    }
    done.set_value(std::move(out));
  });
  auto future = done.get_future();
  if (future.wait_for(std::chrono::seconds(20)) != std::future_status::ready) {
    ADD_FAILURE() << "the loop thread deadlocked on a blocking call";
    std::fflush(nullptr);
    std::_Exit(1);  // the node cannot be stopped any more
  }
  Outcome out = future.get();
  EXPECT_EQ(out.send, Code::kWrongThread);
  EXPECT_NE(out.send_message.find("use MeshNode::core() instead"), std::string::npos) << out.send_message;
  EXPECT_EQ(out.publish, Code::kWrongThread);
  EXPECT_EQ(out.subscribe, Code::kWrongThread);
  EXPECT_EQ(out.call_status, Code::kWrongThread);
  EXPECT_NE(out.peers_error.find("on the loop thread"), std::string::npos) << out.peers_error;
  EXPECT_NE(out.call_error.find("on the loop thread"), std::string::npos) << out.call_error;
  // From another thread the same calls work.
  EXPECT_TRUE(node.peers().empty());
  EXPECT_EQ(node.call([](MeshCore&) { return 7; }), 7);
  test::stopAndExpectCleanClose(node);
}

}  // namespace
}  // namespace meshslice
