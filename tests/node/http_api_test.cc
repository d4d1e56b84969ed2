// The daemon's HTTP API end to end (docs/HTTP.md): real `meshslice up --http 127.0.0.1:0`
// processes, driven over loopback with exact bytes.
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <cctype>
#include <csignal>
#include <map>
#include <sstream>

#include "node/exit_codes.h"
#include "node/json_util.h"
#include "tests/node/daemon_fixture.h"
#include "tests/node/http_test_client.h"

namespace meshslice {
namespace {

using test::HttpTestClient;
using test::eventually;
using test::rpcCall;
using test::run;
using test::startDaemon;

uint16_t portOf(const std::string& host_port) {
  return static_cast<uint16_t>(std::stoi(host_port.substr(host_port.rfind(':') + 1)));
}

std::string tokenFile(const std::string& dir, const char* name) {
  std::string t = test::readFile(dir + "/" + name);
  while (!t.empty() && t.back() == '\n') t.pop_back();
  return t;
}

Json body(const HttpTestClient::Response& r) {
  auto j = parseJson(r.body, kMaxReplyDepth);
  return j ? *j : Json();
}

// The value of one sample of /metrics ("name{labels}" as written), -1 if absent.
double metric(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  return -1;
}

// One sample line of the Prometheus text format: name, optional {label="value",...} (with
// \\ \" \n escapes), a space, a number. (std::regex trips gcc's -Wmaybe-uninitialized under ASan.)
bool isSampleLine(std::string_view line) {
  auto nameChar = [](char c, bool first) {
    return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':' || (!first && std::isdigit(static_cast<unsigned char>(c)));
  };
  size_t i = 0;
  while (i < line.size() && nameChar(line[i], i == 0)) ++i;
  if (i == 0) return false;
  if (i < line.size() && line[i] == '{') {
    ++i;
    while (i < line.size() && line[i] != '}') {
      size_t start = i;
      while (i < line.size() && nameChar(line[i], i == start) && line[i] != ':') ++i;
      if (i == start || line.substr(i, 2) != "=\"") return false;
      for (i += 2; i < line.size() && line[i] != '"'; ++i)
        if (line[i] == '\\') ++i;
      if (i >= line.size()) return false;
      ++i;
      if (i < line.size() && line[i] == ',') ++i;
    }
    if (i >= line.size()) return false;
    ++i;
  }
  if (i >= line.size() || line[i] != ' ') return false;
  std::string_view number = line.substr(i + 1);
  return !number.empty() && number.find_first_not_of("0123456789.e+-") == std::string_view::npos;
}

class HttpApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    d_ = startDaemon(root_.file("a"), {"--http", "127.0.0.1:0", "--http-origin", "http://localhost:5173"});
    ASSERT_TRUE(d_);
    ASSERT_FALSE(d_->http.empty()) << "startup output names the HTTP address";
    port_ = portOf(d_->http);
    full_ = "Authorization: Bearer " + tokenFile(d_->dir, "http.token");
    read_ = "Authorization: Bearer " + tokenFile(d_->dir, "http-readonly.token");
  }
  void TearDown() override {
    if (d_ && d_->child) {
      d_->child->signal(SIGTERM);
      EXPECT_EQ(d_->child->wait(), 0) << d_->stderrText();
    }
  }
  std::string metrics() {
    HttpTestClient c(port_);
    auto r = c.request("GET", "/metrics", "", {read_});
    EXPECT_EQ(r.status, 200);
    return r.body;
  }
  double refused(const std::string& reason) {
    return metric(metrics(), "meshslice_http_refused_total{reason=\"" + reason + "\"}");
  }

  ScopedTempDir root_;
  std::unique_ptr<test::RunningDaemon> d_;
  uint16_t port_ = 0;
  std::string full_, read_;
};

TEST_F(HttpApiTest, TokensArePrivateFilesAndTheCliPrintsThem) {
  for (const char* f : {"http.token", "http-readonly.token"}) {
    struct stat st;
    ASSERT_EQ(::stat((d_->dir + "/" + f).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u) << f;
  }
  auto full = run({"http", "token", "--state-dir", d_->dir}, root_.path());
  EXPECT_EQ(full.code, 0);
  EXPECT_EQ(full.out, tokenFile(d_->dir, "http.token") + "\n");
  EXPECT_EQ(full.out.rfind("msf_", 0), 0u);
  auto ro = run({"http", "token", "--read-only", "--state-dir", d_->dir}, root_.path());
  EXPECT_EQ(ro.out, tokenFile(d_->dir, "http-readonly.token") + "\n");
  EXPECT_EQ(ro.out.rfind("msr_", 0), 0u);
  auto url = run({"http", "url", "--state-dir", d_->dir}, root_.path());
  EXPECT_EQ(url.out, "http://" + d_->http + "/#token=" + tokenFile(d_->dir, "http.token") + "\n");
  auto status = rpcCall(d_->dir, "status");
  ASSERT_TRUE(status);
  EXPECT_EQ((*status)["http"], d_->http);
}

TEST_F(HttpApiTest, EveryApiRequestNeedsATokenAndReadOnlyTokensChangeNothing) {
  HttpTestClient c(port_);
  ASSERT_EQ(c.request("PUT", "/api/stores/notes", R"({"v":1})", {full_}).status, 200);
  for (const char* path : {"/api/status", "/api/peers", "/api/stores", "/api/stores/notes", "/metrics"}) {
    auto none = c.request("GET", path);
    EXPECT_EQ(none.status, 401) << path;
    EXPECT_EQ(none.header("www-authenticate"), "Bearer realm=\"meshslice\"");
    EXPECT_EQ(body(none)["error"]["code"], rpc::kUnauthorized);
    EXPECT_EQ(c.request("GET", path, "", {"Authorization: Bearer msf_wrong"}).status, 401) << path;
    EXPECT_EQ(c.request("GET", path, "", {"Authorization: Basic dXNlcjpwYXNz"}).status, 401) << path;
    EXPECT_EQ(c.request("GET", path, "", {read_}).status, 200) << path;
  }
  struct Change {
    const char* method;
    const char* path;
    const char* body;
  };
  const Change changes[] = {
      {"PUT", "/api/stores/notes", R"({"v":2})"},
      {"POST", "/api/publish", R"({"ns":"chat","data":"hi"})"},
      {"POST", "/api/mesh/revoke", R"({"device":"AAAAAAAAA-AAAAAAAAA-AAAAAAAAA-AAAAAAAAA"})"},
      {"POST", "/api/mesh/allow", R"({"device":"AAAAAAAAA-AAAAAAAAA-AAAAAAAAA-AAAAAAAAA"})"},
      {"POST", "/api/down", ""},
  };
  for (const auto& ch : changes) {
    auto r = c.request(ch.method, ch.path, ch.body, {read_});
    EXPECT_EQ(r.status, 403) << ch.path;
    EXPECT_EQ(body(r)["error"]["code"], rpc::kForbidden) << ch.path;
    EXPECT_EQ(c.request(ch.method, ch.path, ch.body).status, 401) << ch.path;
  }
  // Nothing changed: the slice, the allow-list, the daemon.
  auto get = rpcCall(d_->dir, "get", Json{{"store", "notes"}});
  ASSERT_TRUE(get);
  EXPECT_EQ((*get)["slices"][0]["value"], (Json{{"v", 1}}));
  EXPECT_EQ((*rpcCall(d_->dir, "mesh.allow_list"))["enabled"], false);
  EXPECT_EQ(refused("read-only"), 5);
  EXPECT_EQ(refused("unauthorized"), 5 * 3 + 5);
}

TEST_F(HttpApiTest, RestAnswersAreTheControlSocketsAnswers) {
  HttpTestClient c(port_);
  auto set = c.request("PUT", "/api/stores/sensors", R"({"temp": 21.5})", {full_});
  ASSERT_EQ(set.status, 200) << set.body;
  EXPECT_EQ(body(set)["store"], "sensors");
  uint64_t version = body(set)["version"];
  auto get = c.request("GET", "/api/stores/sensors", "", {read_});
  EXPECT_EQ(body(get), *rpcCall(d_->dir, "get", Json{{"store", "sensors"}}));
  EXPECT_EQ(body(get)["slices"][0]["version"], version);
  auto one = c.request("GET", "/api/stores/sensors/" + d_->device, "", {read_});
  EXPECT_EQ(body(one), *rpcCall(d_->dir, "get", Json{{"store", "sensors"}, {"device", d_->device}}));
  EXPECT_EQ(body(c.request("GET", "/api/stores", "", {read_})), *rpcCall(d_->dir, "stores"));
  EXPECT_EQ(body(c.request("GET", "/api/peers", "", {read_})), *rpcCall(d_->dir, "peers"));
  EXPECT_EQ(body(c.request("GET", "/api/mesh/allow-list", "", {read_})), *rpcCall(d_->dir, "mesh.allow_list"));
  Json status = body(c.request("GET", "/api/status", "", {read_}));
  EXPECT_EQ(status["device"], d_->device);
  EXPECT_EQ(status["http"], d_->http);
  auto pub = c.request("POST", "/api/publish", R"({"ns":"chat","data":"hello"})", {full_});
  EXPECT_EQ(pub.status, 200);
  EXPECT_EQ(body(pub), (Json{{"reached", Json::array()}, {"failed", Json::array()}}));
  // Method errors keep their JSON-RPC codes, with a matching status.
  auto missing = c.request("GET", "/api/stores/nothere", "", {read_});
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(body(missing)["error"]["code"], rpc::kNotFound);
  auto bad_store = c.request("PUT", "/api/stores/bad%20id", "1", {full_});
  EXPECT_EQ(bad_store.status, 400);
  EXPECT_EQ(body(bad_store)["error"]["code"], rpc::kInvalidParams);
  auto reserved = c.request("POST", "/api/publish", R"({"ns":"ms.sync","data":"x"})", {full_});
  EXPECT_EQ(reserved.status, 400);
}

TEST_F(HttpApiTest, BadBodiesAreRefusedAndChangeNothing) {
  HttpTestClient c(port_);
  ASSERT_EQ(c.request("PUT", "/api/stores/s", "\"first\"", {full_}).status, 200);
  uint64_t version = (*rpcCall(d_->dir, "get", Json{{"store", "s"}}))["slices"][0]["version"];
  auto bad = c.request("PUT", "/api/stores/s", "{not json", {full_});
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(body(bad)["error"]["code"], rpc::kParseError);
  EXPECT_EQ(c.request("PUT", "/api/stores/s", "", {full_}).status, 400);
  EXPECT_EQ(c.request("PUT", "/api/stores/s", std::string(70, '[') + std::string(70, ']'), {full_}).status, 400);
  EXPECT_EQ(c.request("POST", "/api/publish", "[1,2]", {full_}).status, 400);
  EXPECT_EQ(c.request("POST", "/api/publish", "\x01\x02", {full_}).status, 400);
  // A value over the 1 MiB slice limit: the method's own refusal.
  std::string big = "\"" + std::string(1024 * 1024 + 10, 'x') + "\"";
  auto too_big = c.request("PUT", "/api/stores/s", big, {full_});
  EXPECT_EQ(too_big.status, 413);
  EXPECT_EQ(body(too_big)["error"]["code"], rpc::kTooLarge);
  // A body over the HTTP limit (2 MiB): refused from its Content-Length, connection closed.
  HttpTestClient huge(port_);
  std::string head = "PUT /api/stores/s HTTP/1.1\r\nHost: " + huge.host() + "\r\n" + full_ +
                     "\r\nContent-Length: 3000000\r\n\r\n";
  huge.send(head);
  std::thread sender([&] { huge.send(std::string(3000000, 'y')); });
  auto r = huge.read();
  sender.join();
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ((*rpcCall(d_->dir, "get", Json{{"store", "s"}}))["slices"][0]["version"], version) << "nothing was set";
  EXPECT_EQ(refused("bad-json"), 5);
  EXPECT_EQ(refused("body-too-large"), 1);
}

TEST_F(HttpApiTest, MalformedHttpUnknownPathsAndWrongMethodsGetClearStatuses) {
  struct Case {
    std::string bytes;
    int status;
  };
  const std::string host = "Host: 127.0.0.1:" + std::to_string(port_) + "\r\n";
  std::vector<Case> cases = {
      {"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400},  // a TLS ClientHello
      {"GET /api/status HTTP/1.1\r\n" + host + "X: " + std::string(20000, 'h') + "\r\n\r\n", 431},
      {"GET /" + std::string(9000, 'p') + " HTTP/1.1\r\n\r\n", 414},
      {"GET /api/status HTTP/1.1\r\n" + host + "\r\n", 401},
  };
  for (const auto& k : cases) {
    HttpTestClient c(port_);
    c.send(k.bytes);
    EXPECT_EQ(c.read().status, k.status) << k.bytes.substr(0, 30);
  }
  HttpTestClient c(port_);
  auto unknown = c.request("GET", "/api/nothing", "", {read_});
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(c.request("GET", "/etc/passwd", "", {read_}).status, 404);
  EXPECT_EQ(c.request("GET", "/api/stores/a/b/c", "", {read_}).status, 404);
  auto wrong = c.request("DELETE", "/api/stores/x", "", {full_});
  EXPECT_EQ(wrong.status, 405);
  EXPECT_EQ(wrong.header("allow"), "GET, PUT");
  EXPECT_EQ(c.request("POST", "/api/status", "{}", {full_}).status, 405);
  EXPECT_EQ(refused("not-found"), 3);
  EXPECT_EQ(refused("method"), 2);
  EXPECT_EQ(refused("malformed"), 1);
  EXPECT_EQ(refused("head-too-large"), 1);
  EXPECT_EQ(refused("request-line-too-long"), 1);
  EXPECT_TRUE(rpcCall(d_->dir, "status")) << "the daemon is fine";
}

TEST_F(HttpApiTest, OriginAndHostRules) {
  HttpTestClient c(port_);
  const std::string own = "Origin: http://127.0.0.1:" + std::to_string(port_);
  EXPECT_EQ(c.request("GET", "/api/status", "", {read_, own}).status, 200);
  auto evil = c.request("GET", "/api/status", "", {read_, "Origin: http://evil.example"});
  EXPECT_EQ(evil.status, 403);
  EXPECT_EQ(body(evil)["error"]["code"], rpc::kForbidden);
  auto dev = c.request("GET", "/api/status", "", {read_, "Origin: http://localhost:5173"});
  EXPECT_EQ(dev.status, 200);
  EXPECT_EQ(dev.header("access-control-allow-origin"), "http://localhost:5173");
  // A preflight needs no token.
  auto pre = c.request("OPTIONS", "/api/stores/x", "",
                       {"Origin: http://localhost:5173", "Access-Control-Request-Method: PUT",
                        "Access-Control-Request-Headers: authorization, content-type"});
  EXPECT_EQ(pre.status, 204);
  EXPECT_EQ(pre.header("access-control-allow-methods"), "GET, HEAD, PUT, POST");
  EXPECT_EQ(pre.header("access-control-allow-headers"), "Authorization, Content-Type");
  EXPECT_EQ(c.request("OPTIONS", "/api/stores/x", "", {"Origin: http://evil.example", "Access-Control-Request-Method: PUT"}).status, 403);
  // DNS rebinding: the right address, another name.
  c.send("GET / HTTP/1.1\r\nHost: evil.example:" + std::to_string(port_) + "\r\n\r\n");
  EXPECT_EQ(c.read().status, 421);
  c.send("GET / HTTP/1.1\r\nHost: localhost:" + std::to_string(port_) + "\r\n\r\n");
  EXPECT_EQ(c.read().status, 200);
  EXPECT_EQ(refused("origin"), 2);
  EXPECT_EQ(refused("host"), 1);
}

TEST_F(HttpApiTest, TheDashboardIsServedWithoutAToken) {
  HttpTestClient c(port_);
  auto page = c.request("GET", "/");
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.header("content-type"), "text/html; charset=utf-8");
  EXPECT_NE(page.header("content-security-policy").find("default-src 'self'"), std::string::npos);
  EXPECT_NE(page.body.find("<html"), std::string::npos);
  auto js = c.request("GET", "/dashboard.js");
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.header("content-type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(c.request("HEAD", "/dashboard.css").status, 200);
}

TEST_F(HttpApiTest, MetricsAreInThePrometheusTextFormat) {
  HttpTestClient c(port_);
  ASSERT_EQ(c.request("PUT", "/api/stores/m", "1", {full_}).status, 200);
  auto r = c.request("GET", "/metrics", "", {read_});
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  // Every line is a comment or "name{labels} value", and each family is declared once.
  std::map<std::string, int> types;
  std::istringstream in(r.body);
  std::string line;
  size_t samples = 0;
  while (std::getline(in, line)) {
    if (line.rfind("# TYPE ", 0) == 0) {
      std::string name = line.substr(7, line.find(' ', 7) - 7);
      EXPECT_EQ(++types[name], 1) << name;
      continue;
    }
    if (line.rfind("# HELP ", 0) == 0) continue;
    EXPECT_TRUE(isSampleLine(line)) << line;
    if (samples == 0) {  // the checker itself refuses what is not a sample
      EXPECT_FALSE(isSampleLine("two words 1"));
      EXPECT_FALSE(isSampleLine("m{a=\"x} 1"));
      EXPECT_FALSE(isSampleLine("m{a=x} 1"));
      EXPECT_FALSE(isSampleLine("m 1 2"));
    }
    ++samples;
  }
  EXPECT_GT(samples, 50u);
  EXPECT_EQ(metric(r.body, "meshslice_stores"), 1);
  EXPECT_EQ(metric(r.body, "meshslice_peers{state=\"linked\"}"), 0);
  EXPECT_EQ(metric(r.body, "meshslice_liveness_timeout_seconds"), 3);
  EXPECT_GE(metric(r.body, "meshslice_http_responses_total{code=\"200\"}"), 1);
  EXPECT_GE(metric(r.body, "meshslice_slices_received_total{result=\"spoofed\"}"), 0);
  EXPECT_GE(metric(r.body, "meshslice_peer_evictions_total{reason=\"timeout\"}"), 0);
  EXPECT_EQ(metric(r.body, "meshslice_http_connections"), 1);
}

TEST_F(HttpApiTest, DownOverHttpAnswersThenStops) {
  HttpTestClient c(port_);
  auto r = c.request("POST", "/api/down", "", {full_});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(body(r), (Json{{"stopping", true}}));
  EXPECT_EQ(d_->child->wait(), 0);
  d_.reset();
}

// Two daemons; the event stream of one shows the other's slices and its death.
TEST(HttpEvents, TheWebSocketStreamCarriesTheWatchEvents) {
  ScopedTempDir root;
  auto a = startDaemon(root.file("a"), {"--http", "127.0.0.1:0"});
  ASSERT_TRUE(a);
  auto b = test::startJoined(*a, root.file("b"));
  ASSERT_TRUE(b);
  ASSERT_TRUE(eventually([&] { return test::peerCount(a->dir) == 1; }));
  const uint16_t port = portOf(a->http);
  const std::string token = tokenFile(a->dir, "http-readonly.token");

  // A browser-style stream (token as a subprotocol) next to `watch --json` on the socket.
  HttpTestClient ws(port);
  auto up = ws.upgrade("/api/events", {"Sec-WebSocket-Protocol: meshslice.v1, meshslice.token." + token});
  ASSERT_EQ(up.status, 101) << up.body;
  EXPECT_EQ(up.header("sec-websocket-protocol"), "meshslice.v1");
  HttpTestClient refused(port);
  EXPECT_EQ(refused.upgrade("/api/events", {"Sec-WebSocket-Protocol: meshslice.v1, meshslice.token.msr_nope"}).status, 401);
  test::Child watch({"watch", "--json", "--state-dir", a->dir}, root.file("watch.err"));
  ASSERT_TRUE(eventually([&] { return (*rpcCall(a->dir, "status"))["watchers"] == 1; }));

  ASSERT_EQ(run({"set", "sensors", R"({"temp":22})", "--state-dir", b->dir}, root.path()).code, 0);
  auto line = watch.readUntil([&](const std::string& l) { return l.find("slice_updated") != std::string::npos; });
  ASSERT_TRUE(line);
  HttpTestClient::Frame f;
  do f = ws.readFrame(); while (f.opcode == 0x1 && f.payload.find("slice_updated") == std::string::npos);
  ASSERT_EQ(f.opcode, 0x1);
  EXPECT_EQ(*parseJson(f.payload), *parseJson(*line)) << "the same event, the same JSON";

  b->child->signal(SIGKILL);
  b->child->wait();
  bool left = false;
  for (int i = 0; i < 10 && !left; ++i) {
    f = ws.readFrame(15000);
    left = f.opcode == 0x1 && parseJson(f.payload)->value("type", "") == "peer_left";
  }
  EXPECT_TRUE(left) << "the stream shows the killed peer leave";
  ws.sendFrame(0x88, std::string("\x03\xe8", 2));
  EXPECT_EQ(ws.readFrame().opcode, 0x8);
  a->child->signal(SIGTERM);
  EXPECT_EQ(a->child->wait(), 0);
}

TEST(HttpEvents, HundredStreamsAndASlowOneDoNotStallTheDaemon) {
  ScopedTempDir root;
  auto a = startDaemon(root.file("a"), {"--http", "127.0.0.1:0"});
  ASSERT_TRUE(a);
  const uint16_t port = portOf(a->http);
  const std::string auth = "Authorization: Bearer " + tokenFile(a->dir, "http-readonly.token");
  const std::string full = "Authorization: Bearer " + tokenFile(a->dir, "http.token");
  HttpTestClient writer(port), probe(port);
  // 100 streams at once, each gets the event.
  std::vector<std::unique_ptr<HttpTestClient>> streams;
  for (int i = 0; i < 100; ++i) {
    streams.push_back(std::make_unique<HttpTestClient>(port));
    ASSERT_EQ(streams.back()->upgrade("/api/events", {auth}).status, 101) << i;
  }
  ASSERT_EQ(writer.request("PUT", "/api/stores/small", R"({"n":1})", {full}).status, 200);
  for (auto& s : streams) {
    auto f = s->readFrame();
    ASSERT_EQ(f.opcode, 0x1);
    EXPECT_NE(f.payload.find("\"store\":\"small\""), std::string::npos);
  }
  EXPECT_EQ(metric(probe.request("GET", "/metrics", "", {auth}).body, "meshslice_http_websockets"), 100);
  streams.resize(1);  // the others hang up

  // A stream that reads nothing next to one that reads: 40 slices of 512 KiB are 20 MiB of
  // events; the slow one is dropped past its 16 MiB backlog, the other gets every event.
  HttpTestClient slow(port, /*rcvbuf=*/4096);
  ASSERT_EQ(slow.upgrade("/api/events", {auth}).status, 101);
  const std::string value = "\"" + std::string(512 * 1024, 'v') + "\"";
  for (int i = 0; i < 40; ++i) {
    ASSERT_EQ(writer.request("PUT", "/api/stores/big", value, {full}).status, 200);
    auto f = streams[0]->readFrame();
    ASSERT_EQ(f.opcode, 0x1);
    EXPECT_NE(f.payload.find("slice_updated"), std::string::npos);
  }
  EXPECT_TRUE(slow.closedByPeer(20000));
  auto r = probe.request("GET", "/metrics", "", {auth});
  EXPECT_EQ(metric(r.body, "meshslice_http_refused_total{reason=\"slow-client\"}"), 1);
  EXPECT_EQ(metric(r.body, "meshslice_http_websockets"), 1);
  a->child->signal(SIGTERM);
  EXPECT_EQ(a->child->wait(), 0);
}

TEST(HttpConfig, BadHttpSettingsAreUsageErrors) {
  ScopedTempDir root;
  auto bad = run({"up", "--state-dir", root.file("a"), "--no-mdns", "--http", "localhost:80"}, root.path());
  EXPECT_EQ(bad.code, kExitUsage) << bad.err;
  EXPECT_NE(bad.err.find("http address"), std::string::npos) << bad.err;
  auto origin = run({"up", "--state-dir", root.file("a"), "--no-mdns", "--http", "127.0.0.1:0", "--http-origin", "evil"},
                    root.path());
  EXPECT_EQ(origin.code, kExitUsage) << origin.err;
}

}  // namespace
}  // namespace meshslice
