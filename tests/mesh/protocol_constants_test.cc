#include "mesh/protocol_constants.h"

#include <gtest/gtest.h>

#include <string>

namespace meshslice {
namespace {

TEST(ValidateNamespace, AcceptsTheDocumentedSyntax) {
  EXPECT_TRUE(validateNamespace("chat", false).isOk());
  EXPECT_TRUE(validateNamespace("a", false).isOk());
  EXPECT_TRUE(validateNamespace("App.v2_rpc-x", false).isOk());
  EXPECT_TRUE(validateNamespace("9lives", false).isOk());
  EXPECT_TRUE(validateNamespace(std::string(64, 'n'), false).isOk());
}

TEST(ValidateNamespace, RejectsBadSyntax) {
  for (std::string_view bad : {"", ".chat", "-x", "_x", "a b", "a/b", "caf\xc3\xa9", "a:b"}) {
    Status s = validateNamespace(bad, true);
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << bad;
  }
  EXPECT_EQ(validateNamespace(std::string(65, 'n'), true).code(), Code::kInvalidArgument);
}

TEST(ValidateNamespace, ReservesTheLibraryPrefixUnlessAllowed) {
  Status s = validateNamespace("ms.sync", false);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("reserved"), std::string::npos);
  EXPECT_FALSE(validateNamespace("MS.sync", false).isOk());
  EXPECT_TRUE(validateNamespace("ms.sync", true).isOk());
  EXPECT_TRUE(validateNamespace("msx", false).isOk());
  EXPECT_TRUE(validateNamespace("ms", false).isOk());
}

TEST(ValidateStoreId, UsesTheNamespaceSyntaxWithoutReservation) {
  EXPECT_TRUE(validateStoreId("ms.internal").isOk());
  EXPECT_TRUE(validateStoreId("prefs").isOk());
  EXPECT_FALSE(validateStoreId("").isOk());
  EXPECT_FALSE(validateStoreId("a b").isOk());
  EXPECT_FALSE(validateStoreId(std::string(65, 's')).isOk());
}

TEST(ValidateDeviceName, AllowsUtf8AndRejectsControlCharacters) {
  EXPECT_TRUE(validateDeviceName("").isOk());
  EXPECT_TRUE(validateDeviceName("K\xc3\xbc" "chen laptop").isOk());
  EXPECT_FALSE(validateDeviceName("two\nlines").isOk());
  EXPECT_FALSE(validateDeviceName("\xff").isOk());
  EXPECT_TRUE(validateDeviceName(std::string(64, 'x')).isOk());
  EXPECT_FALSE(validateDeviceName(std::string(65, 'x')).isOk());
}

TEST(ProtocolLimits, AnyValidEnvelopeFitsTheMessageLimit) {
  // Request worst case: fixarray, type, uint32 id, str8 of 64, bin32 header.
  EXPECT_GE(kMaxEnvelopeOverhead, 1u + 1 + 5 + 2 + kMaxNamespaceLength + 5);
  EXPECT_EQ(kMaxPayloadSize + kMaxEnvelopeOverhead, kMaxMessageSize);
  EXPECT_GT(kMaxPayloadSize, kMaxSliceData);
}

}  // namespace
}  // namespace meshslice
