#include "node/json_util.h"

#include <gtest/gtest.h>

#include "node/line_splitter.h"

namespace meshslice {
namespace {

TEST(JsonUtil, NestingDepthSkipsStringsAndStopsAtTheLimit) {
  EXPECT_EQ(jsonNestingDepth(R"({"a":[1,{"b":"[[[["}]})", 10), 3u);
  EXPECT_EQ(jsonNestingDepth(R"("\"[[")", 10), 0u);
  EXPECT_EQ(jsonNestingDepth(std::string(1000000, '['), 64), 65u);
}

TEST(JsonUtil, ParseRefusesDeepNestingAndBadSyntaxWithoutThrowing) {
  EXPECT_TRUE(parseJson(R"({"a":[1,2,{"b":null}]})").isOk());
  EXPECT_EQ(parseJson(std::string(2 * 1024 * 1024, '[')).status().code(), Code::kMalformed);
  EXPECT_EQ(parseJson("{\"a\":").status().code(), Code::kMalformed);
  EXPECT_EQ(parseJson("").status().code(), Code::kMalformed);
  EXPECT_EQ(parseJson("{} {}").status().code(), Code::kMalformed);
  EXPECT_EQ(parseJson("\xff\xfe").status().code(), Code::kMalformed);
}

TEST(JsonUtil, BytesAreTextWhenUtf8AndBase64Otherwise) {
  Json j;
  putBytes(j, asBytes("héllo"));
  EXPECT_EQ(j["data"], "héllo");
  Json b;
  Bytes raw = {0xff, 0x00, 0x41};
  putBytes(b, raw);
  EXPECT_EQ(b["data_base64"], "/wBB");
  EXPECT_FALSE(b.contains("data"));
  // Dumping never throws, even for a string holding invalid UTF-8.
  EXPECT_FALSE(dumpJson(Json(std::string("\xff"))).empty());
}

TEST(JsonUtil, RpcMessagesHaveTheJsonRpcShape) {
  EXPECT_EQ(dumpJson(rpc::result(7, Json{{"ok", true}})), R"({"id":7,"jsonrpc":"2.0","result":{"ok":true}})");
  EXPECT_EQ(dumpJson(rpc::error(nullptr, rpc::kParseError, "bad")),
            R"({"error":{"code":-32700,"message":"bad"},"id":null,"jsonrpc":"2.0"})");
  EXPECT_EQ(rpc::codeFor(tooLarge("x")), rpc::kTooLarge);
  EXPECT_EQ(rpc::codeFor(invalidArgument("x")), rpc::kInvalidParams);
}

TEST(LineSplitter, SplitsAcrossChunksAndDropsCarriageReturns) {
  LineSplitter s(100);
  std::vector<std::string> lines;
  auto collect = [&](std::string_view l) {
    lines.emplace_back(l);
    return true;
  };
  ASSERT_TRUE(s.feed("ab", collect).isOk());
  ASSERT_TRUE(s.feed("c\r\nde\n\nf", collect).isOk());
  EXPECT_EQ(lines, (std::vector<std::string>{"abc", "de", ""}));
  EXPECT_EQ(s.buffered(), 1u);
}

TEST(LineSplitter, ALineOverTheLimitFailsAndStaysFailed) {
  LineSplitter s(8);
  int calls = 0;
  auto count = [&](std::string_view) {
    ++calls;
    return true;
  };
  ASSERT_TRUE(s.feed("12345678\n", count).isOk());
  EXPECT_EQ(s.feed("1234", count).code(), Code::kOk);
  EXPECT_EQ(s.feed("56789", count).code(), Code::kTooLarge);
  EXPECT_EQ(s.feed("\n", count).code(), Code::kTooLarge);
  EXPECT_EQ(calls, 1);
}

TEST(LineSplitter, StopsWhenTheCallbackSaysSo) {
  LineSplitter s(100);
  int calls = 0;
  ASSERT_TRUE(s.feed("a\nb\nc\n", [&](std::string_view) { return ++calls < 2; }).isOk());
  EXPECT_EQ(calls, 2);
}

}  // namespace
}  // namespace meshslice
