#include "node/http_tokens.h"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include <fstream>

#include "node/daemon_config.h"
#include "node/metrics.h"
#include "tests/mesh/scoped_temp_dir.h"

namespace meshslice {
namespace {

TEST(HttpTokens, CreatedOnceWithMode0600AndKeptAfterwards) {
  ScopedTempDir dir;
  auto first = loadOrCreateHttpTokens(dir.path());
  ASSERT_TRUE(first.isOk()) << first.status().toString();
  EXPECT_TRUE(isWellFormedHttpToken(first->full, false));
  EXPECT_TRUE(isWellFormedHttpToken(first->read_only, true));
  EXPECT_NE(first->full.substr(4), first->read_only.substr(4));
  for (const char* f : {"http.token", "http-readonly.token"}) {
    struct stat st;
    ASSERT_EQ(::stat(dir.file(f).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
  }
  auto again = loadOrCreateHttpTokens(dir.path());
  ASSERT_TRUE(again.isOk());
  EXPECT_EQ(again->full, first->full);
  EXPECT_EQ(again->read_only, first->read_only);
}

TEST(HttpTokens, CheckTellsTheAccessOfAToken) {
  HttpTokens t{newHttpToken(false), newHttpToken(true)};
  EXPECT_EQ(t.check(t.full), HttpAccess::kFull);
  EXPECT_EQ(t.check(t.read_only), HttpAccess::kReadOnly);
  EXPECT_EQ(t.check(""), HttpAccess::kNone);
  EXPECT_EQ(t.check(t.full.substr(0, t.full.size() - 1)), HttpAccess::kNone);
  std::string flipped = t.full;
  flipped.back() = flipped.back() == 'A' ? 'B' : 'A';
  EXPECT_EQ(t.check(flipped), HttpAccess::kNone);
  HttpTokens empty;
  EXPECT_EQ(empty.check(""), HttpAccess::kNone) << "an empty token never matches";
}

TEST(HttpTokens, ACorruptOrOpenFileIsAnErrorNamingIt) {
  ScopedTempDir dir;
  ASSERT_TRUE(loadOrCreateHttpTokens(dir.path()).isOk());
  {
    std::ofstream(dir.file("http.token")) << "not a token\n";
  }
  ::chmod(dir.file("http.token").c_str(), 0600);
  auto bad = loadOrCreateHttpTokens(dir.path());
  ASSERT_FALSE(bad.isOk());
  EXPECT_EQ(bad.status().code(), Code::kMalformed);
  EXPECT_NE(bad.status().message().find("http.token"), std::string::npos);
  ::chmod(dir.file("http.token").c_str(), 0644);
  auto open = loadOrCreateHttpTokens(dir.path());
  ASSERT_FALSE(open.isOk());
  EXPECT_EQ(open.status().code(), Code::kPermissionDenied);
}

TEST(HttpConfigValues, OriginsAreSchemeHostAndPortOnly) {
  for (const char* ok : {"http://localhost:5173", "https://app.example", "http://127.0.0.1:8080", "http://[::1]:3000"})
    EXPECT_TRUE(validateOrigin(ok).isOk()) << ok;
  for (const char* bad : {"localhost:5173", "ftp://x", "http://", "http://x/path", "http://x?q", "*", "null"})
    EXPECT_FALSE(validateOrigin(bad).isOk()) << bad;
}

TEST(PrometheusText, FamiliesSamplesAndEscapedLabels) {
  PrometheusText p;
  p.family("m_total", "counter", "Things.");
  p.sample("m_total", {{"name", "a\"b\\c\nd"}}, uint64_t{18446744073709551615u});
  p.sample("m_seconds", {}, 0.25);
  EXPECT_EQ(p.text(),
            "# HELP m_total Things.\n# TYPE m_total counter\n"
            "m_total{name=\"a\\\"b\\\\c\\nd\"} 18446744073709551615\n"
            "m_seconds 0.25\n");
}

}  // namespace
}  // namespace meshslice
