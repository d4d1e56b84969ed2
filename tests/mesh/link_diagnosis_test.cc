#include "mesh/link_diagnosis.h"

#include <gtest/gtest.h>

#include "mesh/inbound_failures.h"

namespace meshslice {
namespace {

LinkFailureFacts facts(Status reason, std::optional<LinkError> error = std::nullopt) {
  LinkFailureFacts f;
  f.reason = std::move(reason);
  f.error = error;
  return f;
}

TEST(LinkDiagnosis, AResponderThatCannotDecryptTheLastHandshakeMessageSaysDifferentMeshSecret) {
  LinkFailureFacts f = facts(Status(Code::kAuthFailed, "AEAD authentication failed"), LinkError::kHandshakeRejected);
  std::string words = describeLinkFailure(f);
  EXPECT_EQ(words.rfind("different mesh secret", 0), 0u) << words;
  EXPECT_NE(words.find("AEAD authentication failed"), std::string::npos) << "the technical reason is kept";
}

TEST(LinkDiagnosis, AnInitiatorClosedRightAfterItsHandshakeSaysDifferentMeshSecret) {
  LinkFailureFacts f = facts(Status(Code::kClosed, "end of stream"));
  f.initiator = true;
  f.handshake_done = true;
  EXPECT_EQ(describeLinkFailure(f).rfind("different mesh secret", 0), 0u);
  f.handshake_done = false;  // closed before our side finished: not that
  EXPECT_EQ(describeLinkFailure(f).find("mesh secret"), std::string::npos);
}

TEST(LinkDiagnosis, ConnectFailuresAndRefusalsAreNamed) {
  LinkFailureFacts refused = facts(Status(Code::kIo, "connect to 127.0.0.1:1: connection refused"));
  refused.connect_failed = true;
  EXPECT_EQ(describeLinkFailure(refused).rfind("connection refused", 0), 0u);
  LinkFailureFacts slow = facts(Status(Code::kTimeout, "connect to 10.0.0.9:1 timed out"));
  slow.connect_failed = true;
  EXPECT_EQ(describeLinkFailure(slow).rfind("no answer", 0), 0u);
  LinkFailureFacts not_allowed = facts(Status(Code::kPermissionDenied, "device X is not on the allow-list"), LinkError::kNotAllowed);
  EXPECT_EQ(describeLinkFailure(not_allowed).rfind("not on the allow-list", 0), 0u);
  LinkFailureFacts goodbye = facts(Status(Code::kPermissionDenied, std::string("peer said goodbye: ") + kGoodbyeNotAllowed));
  EXPECT_EQ(describeLinkFailure(goodbye), "the peer refused us: not on its allow-list");
  LinkFailureFacts junk = facts(Status(Code::kMalformed, "first message was a Heartbeat"), LinkError::kHelloMissing);
  EXPECT_EQ(describeLinkFailure(junk).rfind("protocol error: hello-missing", 0), 0u);
}

TEST(InboundFailures, CountsPerHostNewestFirstAndForgetsTheOldestWhenFull) {
  InboundFailures log;
  log.note("10.0.0.1:40000", DeviceId(), "different mesh secret", 1);
  log.note("10.0.0.1:40001", DeviceId(), "different mesh secret", 2);  // another ephemeral port
  log.note("10.0.0.2:50000", DeviceId(), "handshake timed out", 3);
  auto list = log.snapshot();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].host, "10.0.0.2");
  EXPECT_EQ(list[1].host, "10.0.0.1");
  EXPECT_EQ(list[1].count, 2u);
  for (size_t i = 0; i < kMaxInboundFailureHosts; ++i)
    log.note("192.168.0." + std::to_string(i) + ":1", DeviceId(), "x", 10 + static_cast<Micros>(i));
  list = log.snapshot();
  EXPECT_EQ(list.size(), kMaxInboundFailureHosts);
  for (const auto& f : list) EXPECT_NE(f.host.rfind("10.0.0.", 0), 0u) << "the oldest hosts were forgotten";
}

}  // namespace
}  // namespace meshslice
