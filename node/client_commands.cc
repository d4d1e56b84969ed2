// The client subcommands of `meshslice`: each talks to the running daemon over the control
// socket (node/control_client.h) and prints the answer for people or, with --json, for
// programs.
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <iterator>
#include <sstream>
#include <thread>

#include "mesh/protocol_constants.h"
#include "node/cli.h"
#include "node/control_client.h"
#include "node/exit_codes.h"
#include "node/state_dir.h"

namespace meshslice {
namespace {

constexpr int kCallTimeoutMs = 15000;
constexpr int kDownTimeoutMs = 15000;

int fail(std::ostream& err, const Status& st) {
  err << "meshslice: " << st.message() << std::endl;
  switch (st.code()) {
    case Code::kInvalidArgument:
    case Code::kMalformed:
    case Code::kTooLarge: return kExitUsage;
    default: return kExitError;
  }
}

std::string text(const Json& j, const char* key) {
  if (!j.contains(key)) return "";
  return j[key].is_string() ? j[key].get<std::string>() : dumpJson(j[key]);
}

// The value of a slice as shown to people: its JSON, or the raw data.
std::string valueText(const Json& slice) {
  if (slice.contains("value")) return dumpJson(slice["value"]);
  if (slice.contains("data")) return dumpJson(slice["data"]);
  return "base64:" + text(slice, "data_base64");
}

// The raw text of `set` may be larger than a slice (a pretty-printed file): the slice limit
// applies to its compact form. This bounds only what is read and parsed.
constexpr size_t kMaxSetInput = 16 * kMaxSliceData;

// `watch` lines stay lines: a longer value is cut, saying how long it was.
constexpr size_t kMaxWatchValueChars = 100;
std::string shortValueText(const Json& slice) {
  std::string v = valueText(slice);
  if (v.size() <= kMaxWatchValueChars) return v;
  const size_t total = v.size();
  v.resize(kMaxWatchValueChars);
  // Do not cut a UTF-8 sequence in two.
  while (!v.empty() && (static_cast<unsigned char>(v.back()) & 0xC0) == 0x80) v.pop_back();
  if (!v.empty() && (static_cast<unsigned char>(v.back()) & 0x80)) v.pop_back();
  return v + "... (" + std::to_string(total) + " bytes)";
}

// "17:18:11.123" of an event's ISO 8601 "at" (UTC), or blanks.
std::string clockText(const Json& e) {
  const std::string at = text(e, "at");
  return at.size() >= 23 ? at.substr(11, 12) : std::string(12, ' ');
}

// The value of `set`: literal JSON, @FILE or @- (stdin), read up to kMaxSetInput.
Result<std::string> readValueArg(const std::string& arg) {
  if (arg.empty() || arg[0] != '@') return arg;
  std::string path = arg.substr(1);
  std::ifstream file;
  std::istream* in = &std::cin;
  if (path != "-") {
    file.open(path, std::ios::binary);
    // Input the user named: a usage error (exit 2), with the OS's reason.
    if (!file) return invalidArgument("cannot read " + path + ": " + std::strerror(errno));
    in = &file;
  }
  std::string data(kMaxSetInput + 1, '\0');
  in->read(data.data(), static_cast<std::streamsize>(data.size()));
  data.resize(static_cast<size_t>(in->gcount()));
  if (data.size() > kMaxSetInput)
    return tooLarge(path + " is larger than " + std::to_string(kMaxSetInput) + " bytes (a slice holds at most " +
                    std::to_string(kMaxSliceData) + " bytes of compact JSON)");
  return data;
}

void printTable(std::ostream& out, const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows)
    for (size_t i = 0; i < row.size(); ++i) {
      if (widths.size() <= i) widths.push_back(0);
      widths[i] = std::max(widths[i], row[i].size());
    }
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      out << row[i];
      if (i + 1 < row.size()) out << std::string(widths[i] - row[i].size() + 2, ' ');
    }
    out << "\n";
  }
}

void printEvent(std::ostream& out, const Json& e) {
  std::string type = text(e, "type");
  out << clockText(e) << "  ";
  if (type == "peer_joined" || type == "peer_updated")
    out << (type == "peer_joined" ? "peer joined  " : "peer updated ") << text(e, "device") << "  "
        << text(e, "name") << "  " << text(e, "address");
  else if (type == "peer_left")
    out << "peer left    " << text(e, "device") << "  " << text(e, "name") << "  (" << text(e, "reason") << ")";
  else if (type == "slice_updated")
    out << "slice        " << text(e, "store") << "  " << text(e, "device") << "  v" << text(e, "version") << "  "
        << shortValueText(e);
  else if (type == "slice_removed")
    out << "slice gone   " << text(e, "store") << "  " << text(e, "device") << "  (" << text(e, "reason") << ")";
  else
    out << dumpJson(e);
  out << std::endl;  // flush: watchers are often pipes
}

int status(ControlClient& c, const Invocation& inv, std::ostream& out, std::ostream& err) {
  auto r = c.call("status", Json::object(), kCallTimeoutMs);
  if (!r) return fail(err, r.status());
  if (inv.json) {
    out << dumpJson(*r) << "\n";
    return kExitOk;
  }
  for (const char* key : {"device", "name", "listen", "mesh_tag", "peers", "stores", "state_dir", "mdns",
                          "allow_list", "pid", "uptime_s"})
    out << std::left << std::setw(12) << (std::string(key) + ":") << text(*r, key) << "\n";
  // Only when there are some: (peer, store) pairs whose contracts disagree (`stores` lists them).
  if (const auto mismatches = r->value("contract_mismatches", uint64_t{0}); mismatches > 0)
    out << std::left << std::setw(12) << "mismatched:" << mismatches << " store contracts (see `stores`)\n";
  return kExitOk;
}

int listing(ControlClient& c, const Invocation& inv, std::ostream& out, std::ostream& err) {
  const bool peers = inv.command == "peers";
  auto r = c.call(inv.command, Json::object(), kCallTimeoutMs);
  if (!r) return fail(err, r.status());
  const Json& items = (*r)[peers ? "peers" : "stores"];
  if (inv.json) {
    out << dumpJson(items) << "\n";
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows;
  rows.push_back(peers ? std::vector<std::string>{"DEVICE", "NAME", "ADDRESS"}
                       : std::vector<std::string>{"STORE", "LOCAL-VERSION", "DEVICES", "CONTRACT", "MISMATCHED"});
  for (const auto& i : items)
    rows.push_back(peers ? std::vector<std::string>{text(i, "device"), text(i, "name"), text(i, "address")}
                         : std::vector<std::string>{text(i, "store"), text(i, "local_version"), text(i, "devices"),
                                                    text(i, "contract"), std::to_string(i.value("mismatched", Json::array()).size())});
  printTable(out, rows);
  return kExitOk;
}

std::string ageText(const Json& ms) {
  if (!ms.is_number()) return "-";
  const double s = ms.get<double>() / 1000.0;
  std::ostringstream o;
  o << std::fixed << std::setprecision(s < 10 ? 1 : 0) << s << " s ago";
  return o.str();
}

std::string rttText(const Json& ms) {
  if (!ms.is_number()) return "-";
  std::ostringstream o;
  o << std::fixed << std::setprecision(2) << ms.get<double>() << " ms";
  return o.str();
}

// `peers --all`: the peers, then every endpoint being dialed, then failed inbound links.
void printPeersAll(std::ostream& out, const Json& r) {
  std::vector<std::vector<std::string>> rows{{"DEVICE", "NAME", "LISTEN", "LINK", "RTT", "LAST-SEEN"}};
  for (const auto& p : r["peers"])
    rows.push_back({text(p, "device"), text(p, "name"), p["listen_address"].is_string() ? text(p, "listen_address") : "-",
                    text(p, "address"), rttText(p["rtt_ms"]), p["linked"] == true ? ageText(p["silent_ms"]) : "link down"});
  printTable(out, rows);
  out << "\n";
  rows = {{"ENDPOINT", "SOURCE", "STATE", "DEVICE", "ATTEMPTS", "LAST-ERROR"}};
  for (const auto& e : r["endpoints"]) {
    std::string state = text(e, "state");
    if (e["next_attempt_ms"].is_number()) state += " (next in " + std::to_string(e["next_attempt_ms"].get<int64_t>() / 1000) + " s)";
    std::string error = e["last_error"].is_string() ? text(e, "last_error") + ", " + ageText(e["last_error_ms_ago"]) : "-";
    rows.push_back({text(e, "endpoint"), e["configured"] == true ? "configured" : "discovered", state,
                    e["device"].is_string() ? text(e, "device") : "-", text(e, "attempts"), error});
  }
  if (rows.size() == 1) out << "no endpoints are dialed\n";
  else printTable(out, rows);
  if (r["inbound_failures"].empty()) return;
  out << "\nfailed links from other nodes:\n";
  rows = {{"HOST", "DEVICE", "COUNT", "LAST-ERROR"}};
  for (const auto& f : r["inbound_failures"])
    rows.push_back({text(f, "host"), f["device"].is_string() ? text(f, "device") : "-", text(f, "count"),
                    text(f, "last_error") + ", " + ageText(f["last_error_ms_ago"])});
  printTable(out, rows);
}

int peersAll(ControlClient& c, const Invocation& inv, std::ostream& out, std::ostream& err) {
  auto r = c.call("peers", Json{{"all", true}}, kCallTimeoutMs);
  if (!r) return fail(err, r.status());
  if (inv.json) out << dumpJson(*r) << "\n";
  else printPeersAll(out, *r);
  return kExitOk;
}

int ping(ControlClient& c, const Invocation& inv, std::ostream& out, std::ostream& err) {
  auto r = c.call("ping", Json{{"device", inv.args.at(0)}}, kCallTimeoutMs);
  if (!r) {
    err << "meshslice: " << r.status().message() << std::endl;
    return r.status().code() == Code::kInvalidArgument ? kExitUsage : kExitError;
  }
  if (inv.json) out << dumpJson(*r) << "\n";
  else out << "reply from " << text(*r, "device") << " (" << text(*r, "name") << "): " << rttText((*r)["rtt_ms"]) << "\n";
  return kExitOk;
}

// The request parameters of get / set / rm, checked before any daemon is asked: a malformed
// store ID or device, an unreadable @FILE or bad JSON is the user's input (exit 2), whether a
// daemon runs or not. Json() for the other commands.
Result<Json> inputParams(const Invocation& inv) {
  if (inv.command != "get" && inv.command != "set" && inv.command != "rm") return Json();
  MS_RETURN_IF_ERROR(validateStoreId(inv.args.at(0)));
  Json params{{"store", inv.args.at(0)}};
  if (inv.command == "get" && inv.args.size() > 1) {
    if (auto id = DeviceId::parse(inv.args[1]); !id) return invalidArgument("bad device ID: " + id.status().message());
    params["device"] = inv.args[1];
  }
  if (inv.command != "set") return params;
  auto value_text = readValueArg(inv.args.at(1));
  if (!value_text) return value_text.status();
  if (value_text->size() > kMaxSetInput)  // a literal argument
    return tooLarge("value is larger than " + std::to_string(kMaxSetInput) + " bytes");
  auto value = parseJson(*value_text, kMaxValueDepth);  // what a request can carry
  if (!value) return malformed("malformed JSON value: " + value.status().message());
  // The daemon stores the compact form (docs/CLI.md): that is what the limit applies to.
  if (size_t compact = dumpJson(*value).size(); compact > kMaxSliceData)
    return tooLarge("value is " + std::to_string(compact) + " bytes as compact JSON, over the " +
                    std::to_string(kMaxSliceData) + " byte slice limit");
  params["value"] = std::move(value.value());
  return params;
}

int get(ControlClient& c, const Invocation& inv, const Json& params, std::ostream& out, std::ostream& err) {
  auto r = c.call("get", params, kCallTimeoutMs);
  if (!r) return fail(err, r.status());
  if (inv.json) {
    out << dumpJson(*r) << "\n";
  } else if (r->contains("slice")) {
    out << valueText((*r)["slice"]) << "\n";
  } else {
    Json by_device = Json::object();
    for (const auto& s : (*r)["slices"]) {
      if (s.contains("value")) by_device[text(s, "device")] = s["value"];
      else by_device[text(s, "device")] = s;
    }
    out << dumpJson(by_device) << "\n";
  }
  return kExitOk;
}

int set(ControlClient& c, const Invocation& inv, const Json& params, std::ostream& out, std::ostream& err) {
  auto r = c.call("set", params, kCallTimeoutMs);
  if (!r) return fail(err, r.status());
  if (inv.json) out << dumpJson(*r) << "\n";
  return kExitOk;
}

int remove(ControlClient& c, const Invocation& inv, const Json& params, std::ostream& out, std::ostream& err) {
  auto r = c.call("remove", params, kCallTimeoutMs);
  if (!r) return fail(err, r.status());
  if (inv.json) {
    out << dumpJson(*r) << "\n";
    return kExitOk;
  }
  out << "removed this device's slice of " << inv.args[0];
  if (const auto others = (*r)["other_devices"].get<size_t>(); others > 0)
    out << " (" << others << " other device(s) still hold slices there)";
  out << "\n";
  return kExitOk;
}

int publish(ControlClient& c, const Invocation& inv, std::ostream& out, std::ostream& err) {
  auto r = c.call("publish", Json{{"ns", inv.args.at(0)}, {"data", inv.args.at(1)}}, kCallTimeoutMs);
  if (!r) return fail(err, r.status());
  if (inv.json) out << dumpJson(*r) << "\n";
  else out << "reached " << (*r)["reached"].size() << " peer(s)\n";
  return kExitOk;
}

// `watch --snapshot`: what holds now, before the events that change it.
void printSnapshot(std::ostream& out, const Json& r, bool json) {
  if (json) {
    out << dumpJson(Json{{"type", "snapshot"}, {"at", r["at"]}, {"peers", r["peers"]}, {"slices", r["slices"]}})
        << std::endl;
    return;
  }
  const std::string now = clockText(r) + "  ";
  for (const auto& p : r["peers"])
    out << now << "peer         " << text(p, "device") << "  " << text(p, "name") << "  " << text(p, "address") << "\n";
  for (const auto& s : r["slices"])
    out << now << "slice        " << text(s, "store") << "  " << text(s, "device") << "  v" << text(s, "version")
        << "  " << shortValueText(s) << "\n";
  out << now << "(snapshot: " << r["peers"].size() << " peer(s), " << r["slices"].size()
      << " slice(s); events follow)" << std::endl;
}

// watch and subscribe: print notifications until the daemon goes away.
int stream(ControlClient& c, const Invocation& inv, std::ostream& out, std::ostream& err) {
  const bool watch = inv.command == "watch";
  auto r = watch ? c.call("watch", inv.snapshot ? Json{{"snapshot", true}} : Json::object(), kCallTimeoutMs)
                 : c.call("subscribe", Json{{"ns", inv.args.at(0)}}, kCallTimeoutMs);
  if (!r) return fail(err, r.status());
  if (watch && inv.snapshot) printSnapshot(out, *r, inv.json);
  for (;;) {
    auto m = c.next(-1);
    if (!m) {
      if (m.status().code() == Code::kClosed) {
        err << "meshslice: the daemon stopped" << std::endl;
        return kExitOk;
      }
      return fail(err, m.status());
    }
    const Json& params = (*m)["params"];
    if (inv.json) out << dumpJson(params) << std::endl;
    else if (watch) printEvent(out, params);
    else out << (params.contains("data") ? text(params, "data") : "base64:" + text(params, "data_base64")) << std::endl;
  }
}

int down(ControlClient& c, const std::string& dir, std::ostream& err) {
  auto r = c.call("down", Json::object(), kCallTimeoutMs);
  if (!r) return fail(err, r.status());
  // Done when the daemon released its lock: goodbyes sent, every handle closed.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kDownTimeoutMs);
  while (DaemonLock::isHeld(dir)) {
    if (std::chrono::steady_clock::now() > deadline) return fail(err, Status(Code::kTimeout, "the daemon did not exit in time"));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling a lock: no event to wait on
  }
  return kExitOk;
}

}  // namespace

int runClientCommand(const Invocation& inv, const std::string& state_dir, std::ostream& out, std::ostream& err) {
  auto params = inputParams(inv);
  if (!params) return fail(err, params.status());
  auto client = ControlClient::connect(controlSocketPath(state_dir));
  if (!client) {
    if (client.status().code() == Code::kNotFound) {
      err << "meshslice: no meshslice daemon is running on " << state_dir << " (start one with `meshslice up`)" << std::endl;
      return kExitNoDaemon;
    }
    return fail(err, client.status());
  }
  ControlClient& c = *client;
  if (inv.command == "status") return status(c, inv, out, err);
  if (inv.command == "peers" && inv.all) return peersAll(c, inv, out, err);
  if (inv.command == "peers" || inv.command == "stores") return listing(c, inv, out, err);
  if (inv.command == "ping") return ping(c, inv, out, err);
  if (inv.command == "get") return get(c, inv, *params, out, err);
  if (inv.command == "set") return set(c, inv, *params, out, err);
  if (inv.command == "publish") return publish(c, inv, out, err);
  if (inv.command == "rm") return remove(c, inv, *params, out, err);
  if (inv.command == "watch" || inv.command == "subscribe") return stream(c, inv, out, err);
  if (inv.command == "down") return down(c, state_dir, err);
  return fail(err, invalidArgument("unknown command '" + inv.command + "'"));
}

}  // namespace meshslice
