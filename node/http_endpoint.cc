#include "node/http_endpoint.h"

#include "base/log.h"
#include "node/metrics.h"
#include "transport/address.h"

namespace meshslice {

Result<std::unique_ptr<HttpEndpoint>> HttpEndpoint::start(const Parts& parts, const std::string& state_dir,
                                                          const std::string& address, std::vector<std::string> origins,
                                                          HttpServerOptions options) {
  auto tokens = loadOrCreateHttpTokens(state_dir);
  if (!tokens) return tokens.status();
  std::unique_ptr<HttpEndpoint> e(new HttpEndpoint(parts));
  HttpEndpoint* self = e.get();
  auto metrics = [self] {
    const Parts& p = self->parts_;
    return renderDaemonMetrics(MetricsSources{p.core, p.stores, p.control, self->server_.get(),
                                              p.env.wallMillis() - p.started_at_ms});
  };
  e->api_ = std::make_unique<HttpApi>(parts.service, std::move(tokens.value()), HttpApiOptions{std::move(origins)}, metrics);
  e->server_ = std::make_unique<HttpServer>(parts.env, parts.loop, *e->api_, options);
  auto bound = e->server_->listen(address);
  if (!bound) return bound.status();
  e->address_ = *bound;
  e->api_->attach(*e->server_, *bound);
  parts.service.setEventListener([api = e->api_.get()](const Json& event) { api->onEvent(event); });
  if (auto hp = splitHostPort(*bound); hp && hp->host.rfind("127.", 0) != 0 && hp->host != "::1")
    MS_LOG(kWarn, "http") << "the HTTP API listens on " << *bound
                          << ", beyond this machine: plain HTTP, protected only by its tokens";
  MS_LOG(kInfo, "http") << "HTTP API and dashboard on http://" << *bound << "/";
  return e;
}

HttpEndpoint::~HttpEndpoint() { stop(); }

void HttpEndpoint::stop() {
  if (server_) server_->stop();
  parts_.service.setEventListener(nullptr);
}

}  // namespace meshslice
