#include "node/config_reload.h"

#include <algorithm>

namespace meshslice {

ReloadPlan planReload(const DaemonConfig& running, const DaemonConfig& next) {
  ReloadPlan plan;
  plan.log_level = next.log_level != running.log_level;
  plan.log_format = next.log_format != running.log_format;
  plan.peers = next.peers != running.peers;
  for (const auto& s : next.stores)
    if (std::find(running.stores.begin(), running.stores.end(), s) == running.stores.end()) plan.new_stores.push_back(s);
  auto restart = [&](bool changed, const char* key) {
    if (changed) plan.needs_restart.push_back(key);
  };
  restart(next.state_dir != running.state_dir, "state-dir");
  restart(next.name != running.name, "name");
  restart(next.listen != running.listen, "listen");
  restart(next.interfaces != running.interfaces, "interface");
  restart(next.mdns != running.mdns, "mdns");
  restart(next.mdns_port != running.mdns_port, "mdns-port");
  restart(next.http != running.http, "http");
  restart(next.http_origins != running.http_origins, "http-origin");
  restart(next.control_group != running.control_group, "control-group");
  return plan;
}

}  // namespace meshslice
