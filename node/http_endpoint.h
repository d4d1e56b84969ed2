// The daemon's HTTP side (docs/HTTP.md): its tokens, the HttpApi and the HttpServer, wired to
// the ControlService (method calls, watch events) and to the node's parts (/metrics). Created
// by the daemon only when `--http` is set.
//
// Threading and lifetime: loop thread only; everything in Parts must outlive the endpoint.
// stop() (or the destructor) closes the listener and every connection.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "node/http_api.h"
#include "node/http_server.h"

namespace meshslice {

class ControlServer;

class HttpEndpoint {
 public:
  struct Parts {
    Env& env;
    uv_loop_t* loop;
    MeshCore& core;
    StoreHub& stores;
    ControlService& service;
    const ControlServer& control;
    int64_t started_at_ms;  // wall clock
  };

  // Loads (or creates) the tokens in `state_dir`, then listens on `address`. Non-loopback
  // addresses are allowed but logged: the API is plain HTTP.
  static Result<std::unique_ptr<HttpEndpoint>> start(const Parts& parts, const std::string& state_dir,
                                                     const std::string& address, std::vector<std::string> origins,
                                                     HttpServerOptions options = {});
  ~HttpEndpoint();
  HttpEndpoint(const HttpEndpoint&) = delete;
  HttpEndpoint& operator=(const HttpEndpoint&) = delete;

  const std::string& address() const { return address_; }
  void stop();

 private:
  explicit HttpEndpoint(const Parts& parts) : parts_(parts) {}

  Parts parts_;
  std::string address_;
  std::unique_ptr<HttpApi> api_;
  std::unique_ptr<HttpServer> server_;
};

}  // namespace meshslice
