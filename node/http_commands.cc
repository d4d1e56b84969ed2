// `meshslice http token` and `meshslice http url` (docs/CLI.md, docs/HTTP.md).
#include "node/cli.h"
#include "node/control_client.h"
#include "node/exit_codes.h"
#include "node/http_tokens.h"
#include "node/state_dir.h"

namespace meshslice {

int runHttpCommand(const Invocation& inv, const std::string& dir, std::ostream& out, std::ostream& err) {
  auto tokens = loadOrCreateHttpTokens(dir);
  if (!tokens) {
    err << "meshslice: " << tokens.status().message() << std::endl;
    return kExitError;
  }
  const std::string& token = inv.read_only ? tokens->read_only : tokens->full;
  if (inv.command == "http token") {
    out << token << "\n";
    return kExitOk;
  }
  auto client = ControlClient::connect(controlSocketPath(dir));
  if (!client) {
    err << "meshslice: no meshslice daemon is running on " << dir << " (start one with `meshslice up --http 127.0.0.1:PORT`)" << std::endl;
    return kExitNoDaemon;
  }
  auto status = client->call("status", Json::object(), 15000);
  if (!status) {
    err << "meshslice: " << status.status().message() << std::endl;
    return kExitError;
  }
  if (!(*status)["http"].is_string()) {
    err << "meshslice: the daemon runs without the HTTP API (restart it with --http 127.0.0.1:PORT)" << std::endl;
    return kExitError;
  }
  // The token travels in the fragment: browsers never send it to the server or in a Referer.
  std::string address = (*status)["http"].get<std::string>();
  if (address.starts_with("0.0.0.0:")) address = "127.0.0.1" + address.substr(7);  // a wildcard: this machine
  else if (address.starts_with("[::]:")) address = "[::1]" + address.substr(4);
  out << "http://" << address << "/#token=" << token << "\n";
  return kExitOk;
}

}  // namespace meshslice
