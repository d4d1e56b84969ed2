#include "node/cli.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <algorithm>
#include <optional>
#include <sstream>

#include "mesh/identity.h"
#include "mesh/mesh_secret.h"
#include "node/control_client.h"
#include "node/daemon.h"
#include "node/exit_codes.h"
#include "node/state_dir.h"

namespace meshslice {
namespace {

#ifndef MESHSLICE_VERSION
#error "the build defines MESHSLICE_VERSION (the project version)"
#endif

constexpr int kCallTimeoutMs = 15000;
// `mesh join --force` keeps mesh.key.old and mesh.key.old.1 .. .N; past that it refuses.
constexpr int kMaxMeshKeyBackups = 99;

// Storage CLI11 writes into while parsing; turned into an Invocation afterwards.
struct RawFlags {
  std::string state_dir, log_level, log_format, name, listen, config, http, control_group;
  std::vector<std::string> interfaces, peers, stores, http_origins;
  std::string pos1, pos2;  // positional arguments of the client and mesh commands
  std::vector<std::string> help_topic;  // `help COMMAND [SUBCOMMAND]`
  bool mdns = true;
  bool verbose = false;
  unsigned mdns_port = 0;
};

// Told after `up`'s own options: the global ones, which `up --help` would not show otherwise.
constexpr char kUpFooter[] =
    "\nGlobal options (before or after the command):\n"
    "  --state-dir DIR    identity, mesh key, stores and control socket (default: $MESHSLICE_STATE_DIR,\n"
    "                     else $XDG_STATE_HOME/meshslice, else ~/.local/state/meshslice)\n"
    "  --log-level LEVEL  trace|debug|info|warn|error|off (default: info for up, warn for other commands;\n"
    "                     $MESHSLICE_LOG_LEVEL)\n"
    "  -v, --verbose      more log lines: debug (unless --log-level is given)\n"
    "Every setting can also come from the config file and the environment (docs/CLI.md).\n";

void addSubcommands(CLI::App& app, RawFlags& f, Invocation& inv) {
  auto* up = app.add_subcommand("up", "Run a node in the foreground until SIGINT/SIGTERM or `meshslice down`");
  up->footer(kUpFooter);
  up->add_option("--config", f.config, "Config file (default: <state-dir>/meshslice.conf if present; $MESHSLICE_CONFIG)");
  up->add_option("--name", f.name, "Display name of this device (default: the one in the identity; the host name for a new one)");
  up->add_option("--control-group", f.control_group,
                 "Let this group's members use the control socket (mode 0660); default: owner only (0600)");
  up->add_option("--listen", f.listen, "TCP listen address HOST:PORT (default: 0.0.0.0:0, every IPv4 address, a free port)");
  up->add_option("--interface", f.interfaces, "Limit mDNS (and listening) to this interface; repeatable (default: every multicast interface)")
      ->allow_extra_args(false);
  up->add_option("--peer", f.peers, "Static peer HOST:PORT to dial; repeatable (default: none). Without mDNS every node needs one it can reach")
      ->allow_extra_args(false);
  up->add_option("--store", f.stores, "Open this store at start; repeatable (default: none; stores also open on first use)")
      ->allow_extra_args(false);
  up->add_flag("--mdns,!--no-mdns", f.mdns, "Use mDNS discovery on the LAN (default: on)");
  up->add_option("--http", f.http, "Serve the HTTP API and dashboard on HOST:PORT (e.g. 127.0.0.1:7071; default: off)");
  up->add_option("--http-origin", f.http_origins, "Browser origin allowed to use the HTTP API; repeatable (default: none)")
      ->allow_extra_args(false);
  up->add_option("--mdns-port", f.mdns_port, "mDNS UDP port (tests)")->group("")->check(CLI::Range(1, 65535));

  app.add_subcommand("id", "Print this device's ID (creating the identity if needed)");
  auto* mesh = app.add_subcommand("mesh", "Mesh membership: invites, joining, allow-list");
  mesh->require_subcommand(1);
  auto* invite = mesh->add_subcommand("invite", "Print the invite other devices join with");
  invite->add_flag("--grouped", inv.grouped, "Group the invite in blocks of 8 characters");
  auto* join = mesh->add_subcommand("join", "Join the mesh of an invite (takes effect at the next `up`)");
  join->add_option("invite", f.pos1, "Invite string (msm1-...)")->required();
  join->add_flag("--force", inv.force, "Replace the current mesh (its key is kept as mesh.key.old, .old.1, ...)");
  mesh->add_subcommand("allow", "Put a device on the allow-list")->add_option("device", f.pos1, "Device ID")->required();
  mesh->add_subcommand("revoke", "Take a device off the allow-list")->add_option("device", f.pos1, "Device ID")->required();
  mesh->add_subcommand("allow-list", "Print the allow-list (or that it is off: anyone with the invite may join)");

  app.add_subcommand("status", "Show the running node");
  app.add_subcommand("peers", "List connected peers")
      ->add_flag("--all", inv.all, "Also every endpoint being dialed (state, last error in words) and failed inbound links");
  app.add_subcommand("ping", "Ask a peer for a reply and print the round-trip time (exit 1 if it does not answer)")
      ->add_option("device", f.pos1, "Device ID, unique ID prefix or unique name of a connected peer")->required();
  app.add_subcommand("stores", "List stores");
  auto* get = app.add_subcommand("get", "Print a store's slices (or one device's)");
  get->add_option("store", f.pos1, "Store ID")->required();
  get->add_option("device", f.pos2, "Device ID");
  auto* set = app.add_subcommand("set", "Set this device's slice of a store");
  set->add_option("store", f.pos1, "Store ID")->required();
  set->add_option("value", f.pos2, "JSON value, @FILE, or @- for stdin")->required();
  auto* rm = app.add_subcommand("rm", "Delete this device's slice of a store, here and on every peer");
  rm->alias("delete");
  rm->add_option("store", f.pos1, "Store ID")->required();
  app.add_subcommand("watch", "Stream peer and slice events, each with its time")
      ->add_flag("--snapshot", inv.snapshot,
                 "First print the peers and slices there are now (no event is missed or doubled in between)");
  auto* publish = app.add_subcommand("publish", "Publish a message to every connected peer");
  publish->add_option("ns", f.pos1, "Namespace")->required();
  publish->add_option("data", f.pos2, "Message text")->required();
  app.add_subcommand("subscribe", "Print messages published on a namespace")
      ->add_option("ns", f.pos1, "Namespace")->required();
  app.add_subcommand("down", "Stop the running daemon and wait until it exited");
  auto* http = app.add_subcommand("http", "The HTTP API's tokens and dashboard address");
  http->require_subcommand(1);
  http->add_subcommand("token", "Print the HTTP API's bearer token (creating it if needed)")
      ->add_flag("--read-only", inv.read_only, "The read-only token");
  http->add_subcommand("url", "Print the dashboard's address with its token (needs the running daemon)")
      ->add_flag("--read-only", inv.read_only, "With the read-only token");
  for (auto* sub : app.get_subcommands({}))
    if (sub->get_name() != "up" && sub->get_name() != "mesh" && sub->get_name() != "id" && sub->get_name() != "down" &&
        sub->get_name() != "http")
      sub->add_flag("--json", inv.json, "Machine-readable output (one JSON object a line)");
  app.get_subcommand("id")->add_flag("--json", inv.json, "Machine-readable output");
  app.get_subcommand("mesh")->get_subcommand("allow-list")->add_flag("--json", inv.json, "Print {\"enabled\", \"devices\": [...]}");
  // What --json really prints where it is not one object a line.
  app.get_subcommand("peers")->get_option("--json")->description(
      "Print one JSON array of peers {device, name, address, listen_address, protocol_version, linked, silent_ms, "
      "rtt_ms, queued_bytes}; with --all the whole object {peers, endpoints, inbound_failures}");
  app.get_subcommand("stores")->get_option("--json")->description(
      "Print one JSON array of stores {store, local_version, devices}");
  app.add_subcommand("help", "Show the help of a command: meshslice help [COMMAND [SUBCOMMAND]]")
      ->add_option("command", f.help_topic, "Command (and subcommand)")->expected(0, 2);
}

// Levenshtein distance, for "did you mean".
size_t editDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

// " (did you mean 'status'?)" for a word close to one of `app`'s subcommands, else "".
std::string didYouMean(const CLI::App& app, const std::string& word) {
  std::string best;
  size_t best_distance = 0;
  for (const auto* sub : app.get_subcommands({})) {
    const std::string& name = sub->get_name();
    const size_t d = editDistance(word, name);
    const bool prefix = word.size() >= 2 && name.compare(0, word.size(), word) == 0;
    if ((d <= std::max<size_t>(1, name.size() / 3) || prefix) && (best.empty() || d < best_distance)) {
      best = name;
      best_distance = d;
    }
  }
  return best.empty() ? "" : " (did you mean '" + best + "'?)";
}

std::string commandName(const CLI::App& app) {
  for (const auto* sub : app.get_subcommands()) {
    std::string name = sub->get_name();
    for (const auto* subsub : sub->get_subcommands()) name += " " + subsub->get_name();
    return name;
  }
  return "";
}

}  // namespace

Result<Invocation> parseCommandLine(const std::vector<std::string>& argv) {
  Invocation inv;
  RawFlags f;
  CLI::App app("meshslice: sync per-device state across a LAN mesh", "meshslice");
  app.set_version_flag("--version", "meshslice " MESHSLICE_VERSION);
  app.fallthrough(true);  // global options work after the subcommand too
  app.require_subcommand(1);
  app.add_option("--state-dir", f.state_dir, "State directory (identity, mesh, stores, control socket)");
  app.add_option("--log-level", f.log_level, "trace|debug|info|warn|error|off (default: info for up, warn for the others)");
  app.add_option("--log-format", f.log_format, "Log lines on stderr: text (default) or json (one object a line)");
  app.add_flag("-v,--verbose", f.verbose, "More log lines: debug level (unless --log-level is given)");
  addSubcommands(app, f, inv);
  std::vector<std::string> args(argv.rbegin(), argv.rend() - (argv.empty() ? 0 : 1));
  try {
    app.parse(args);  // CLI11 takes the arguments reversed, without the program name
  } catch (const CLI::CallForHelp& e) {
    std::ostringstream out, err;
    app.exit(e, out, err);
    inv.help = out.str();
    return inv;
  } catch (const CLI::CallForVersion& e) {
    inv.help = std::string(e.what()) + "\n";
    return inv;
  } catch (const CLI::ParseError& e) {
    // CLI11 reports an unknown command as a missing subcommand (or an extra argument); name
    // the word instead, with the nearest command.
    const CLI::App* level = &app;
    std::string path;
    while (!level->get_subcommands().empty()) {
      level = level->get_subcommands().front();
      path += level->get_name() + " ";
    }
    // With fallthrough, a word the subcommand has no place for may land on a parent.
    std::vector<std::string> rest;
    for (const CLI::App* on = level; on && rest.empty(); on = on->get_parent()) rest = on->remaining();
    if (!rest.empty() && !level->get_subcommands({}).empty() && rest.front().rfind("-", 0) != 0)
      return invalidArgument("unknown command '" + path + rest.front() + "'" + didYouMean(*level, rest.front()));
    return invalidArgument(e.what());
  }
  inv.command = commandName(app);
  if (inv.command == "help") {
    // `help CMD [SUB]` is `CMD [SUB] --help`; plain `help` is `--help`.
    const CLI::App* level = &app;
    for (const auto& word : f.help_topic) {
      const CLI::App* next = nullptr;
      for (const auto* sub : level->get_subcommands({}))
        if (sub->get_name() == word || sub->check_name(word)) next = sub;
      if (!next) return invalidArgument("help: unknown command '" + word + "'" + didYouMean(*level, word));
      level = next;
    }
    std::vector<std::string> again{argv.empty() ? "meshslice" : argv.front()};
    again.insert(again.end(), f.help_topic.begin(), f.help_topic.end());
    again.push_back("--help");
    return parseCommandLine(again);
  }
  for (const CLI::App* sub = &app; sub;) {
    auto subs = sub->get_subcommands();
    sub = subs.empty() ? nullptr : subs.front();
    if (!sub) break;
    for (const CLI::Option* opt : sub->get_options())  // definition order = argument order
      if (opt->get_positional() && opt->count() > 0) inv.args.push_back(opt->as<std::string>());
  }
  auto given = [&](const CLI::App& on, const char* name) { return on.get_option(name)->count() > 0; };
  if (given(app, "--state-dir")) inv.flags.state_dir = f.state_dir;
  if (f.verbose) inv.flags.log_level = LogLevel::kDebug;  // --log-level below wins
  if (given(app, "--log-level")) {
    LogLevel level;
    if (!parseLogLevel(f.log_level, level)) return invalidArgument("--log-level: unknown level '" + f.log_level + "'");
    inv.flags.log_level = level;
  }
  if (given(app, "--log-format")) {
    LogFormat format;
    if (!parseLogFormat(f.log_format, format)) return invalidArgument("--log-format: unknown format '" + f.log_format + "' (text, json)");
    inv.flags.log_format = format;
  }
  if (inv.command == "up") {
    const CLI::App& up = *app.get_subcommand("up");
    if (given(up, "--config")) inv.config_file = f.config;
    if (given(up, "--name")) inv.flags.name = f.name;
    if (given(up, "--listen")) inv.flags.listen = f.listen;
    if (given(up, "--interface")) inv.flags.interfaces = f.interfaces;
    if (given(up, "--peer")) inv.flags.peers = f.peers;
    if (given(up, "--store")) inv.flags.stores = f.stores;
    if (given(up, "--mdns")) inv.flags.mdns = f.mdns;
    if (given(up, "--mdns-port")) inv.flags.mdns_port = static_cast<uint16_t>(f.mdns_port);
    if (given(up, "--http")) inv.flags.http = f.http;
    if (given(up, "--control-group")) inv.flags.control_group = f.control_group;
    if (given(up, "--http-origin")) inv.flags.http_origins = f.http_origins;
  }
  return inv;
}

Result<std::string> resolveStateDir(const Invocation& inv, const GetEnvFn& getenv) {
  if (inv.flags.state_dir && !inv.flags.state_dir->empty()) return *inv.flags.state_dir;
  const char* env = getenv("MESHSLICE_STATE_DIR");
  if (env && *env) return std::string(env);
  return defaultStateDir(getenv);
}

Result<DaemonConfig> resolveDaemonConfig(const Invocation& inv, const GetEnvFn& getenv) {
  auto env = configFromEnv(getenv);
  if (!env) return env.status();
  std::string path = inv.config_file;
  if (path.empty() && getenv("MESHSLICE_CONFIG") && *getenv("MESHSLICE_CONFIG")) path = getenv("MESHSLICE_CONFIG");
  const bool implicit = path.empty();
  if (implicit) {
    auto dir = resolveStateDir(inv, getenv);
    if (!dir) return dir.status();
    path = *dir + "/" + std::string(kConfigFileName);
  }
  ConfigLayer file;
  if (auto loaded = loadConfigFile(path); loaded) {
    file = std::move(loaded.value());
    if (implicit && file.state_dir) return invalidArgument("config file " + path + ": state-dir cannot be set in the state directory's own config file");
  } else if (!(implicit && loaded.status().code() == Code::kNotFound)) {
    return loaded.status();
  }
  DaemonConfig config;
  applyLayer(config, file);
  applyLayer(config, *env);
  applyLayer(config, inv.flags);
  if (config.state_dir.empty()) {
    auto dir = defaultStateDir(getenv);
    if (!dir) return dir.status();
    config.state_dir = *dir;
  }
  MS_RETURN_IF_ERROR(validateConfig(config));
  return config;
}

namespace {

int fail(std::ostream& err, const Status& st, int code) {
  err << "meshslice: " << st.message() << std::endl;
  return code;
}

// Identity and mesh keys are read and created under the state directory's KeyCreationLock
// (node/state_dir.h): a daemon starting on the directory holds it until it has saved the keys
// it runs with, so these commands wait for it and then read its keys. A missing key is created
// only while no daemon holds the directory: a key made under a running daemon would not be the
// one it uses. Returns the lock, or exits with the error already printed.
std::optional<KeyCreationLock> lockKeys(const std::string& dir, std::ostream& err) {
  auto keys = KeyCreationLock::acquire(dir, [&] {
    err << "meshslice: waiting for the daemon starting on " << dir << " to save its keys" << std::endl;
  });
  if (!keys) {
    fail(err, keys.status(), kExitError);
    return std::nullopt;
  }
  return std::move(keys).value();
}

// The refusal to create a key that a running daemon lacks.
Status keyMissingUnderDaemon(const std::string& dir, std::string_view file, std::string_view what) {
  return Status(Code::kNotFound, "the daemon running on " + dir + " has no " + std::string(file) +
                                     " (was it deleted?); not creating " + std::string(what) +
                                     " it would not use: stop it (meshslice down) first");
}

int runId(const Invocation& inv, const std::string& dir, std::ostream& out, std::ostream& err) {
  auto keys = lockKeys(dir, err);
  if (!keys) return kExitError;
  auto identity = Identity::load(dir + "/" + std::string(kIdentityFileName));
  if (!identity && identity.status().code() == Code::kNotFound) {
    if (DaemonLock::isHeld(dir)) return fail(err, keyMissingUnderDaemon(dir, kIdentityFileName, "a new identity"), kExitError);
    identity = Identity::loadOrCreate(dir, defaultDeviceName());
  }
  if (!identity) return fail(err, identity.status(), kExitError);
  if (inv.json) out << dumpJson(Json{{"device", identity->deviceId().toString()}, {"name", identity->name()}}) << "\n";
  else out << identity->deviceId().toString() << "\n";
  return kExitOk;
}

int runInvite(const Invocation& inv, const std::string& dir, std::ostream& out, std::ostream& err) {
  auto keys = lockKeys(dir, err);
  if (!keys) return kExitError;
  auto secret = MeshSecret::load(dir);
  const bool missing = !secret && secret.status().code() == Code::kNotFound;
  if (missing) {
    if (DaemonLock::isHeld(dir)) return fail(err, keyMissingUnderDaemon(dir, kMeshKeyFileName, "a new mesh"), kExitError);
    secret = MeshSecret::loadOrCreate(dir);
  }
  if (!secret) return fail(err, secret.status(), kExitError);
  if (missing) err << "meshslice: created a new mesh in " << dir << "\n";
  out << secret->toInvite(inv.grouped ? InviteFormat::kGrouped : InviteFormat::kCompact) << "\n";
  return kExitOk;
}

// Keeps the current mesh key under the first free name of mesh.key.old, mesh.key.old.1, ...
// (link(2) never replaces a file, so no earlier backup is lost). Returns the name used.
Result<std::string> backUpMeshKey(const std::string& dir) {
  const std::string key = dir + "/" + std::string(kMeshKeyFileName);
  for (int n = 0; n <= kMaxMeshKeyBackups; ++n) {
    const std::string backup = key + ".old" + (n == 0 ? "" : "." + std::to_string(n));
    if (::link(key.c_str(), backup.c_str()) == 0) return backup;
    if (errno != EEXIST) return ioError("cannot keep the old mesh key as " + backup + ": " + std::strerror(errno));
  }
  return Status(Code::kAlreadyExists, "there are already " + std::to_string(kMaxMeshKeyBackups + 1) +
                                          " old mesh keys (mesh.key.old*) in " + dir + ": move some away first");
}

int runJoin(const Invocation& inv, const std::string& dir, std::ostream& out, std::ostream& err) {
  auto secret = MeshSecret::fromInvite(inv.args.at(0));
  if (!secret) return fail(err, Status(Code::kInvalidArgument, "bad invite: " + secret.status().message()), kExitUsage);
  auto keys = lockKeys(dir, err);  // a daemon starting now creates its mesh first
  if (!keys) return kExitError;
  auto current = MeshSecret::load(dir);
  if (current && *current == *secret) {
    out << "already in this mesh\n";
    return kExitOk;
  }
  if (!current && current.status().code() != Code::kNotFound && !inv.force) return fail(err, current.status(), kExitError);
  // A running daemon keeps the mesh it started with: a new mesh.key under it would make
  // `mesh invite` print an invite to a mesh the daemon is not in. Checked under the key lock,
  // which a starting daemon holds until its keys are saved.
  if (DaemonLock::isHeld(dir))
    return fail(err, Status(Code::kAlreadyExists, "the daemon running on " + dir + " is in mesh " +
                                                      (current ? current->tag() : std::string("(unreadable key)")) +
                                                      "; stop it first (meshslice down), then join"),
                kExitError);
  std::string backup;
  if (current || current.status().code() != Code::kNotFound) {
    if (!inv.force)
      return fail(err, Status(Code::kAlreadyExists, "this device is already in another mesh; `meshslice mesh join --force` replaces it (the old key is kept as mesh.key.old)"), kExitError);
    auto kept = backUpMeshKey(dir);
    if (!kept) return fail(err, kept.status(), kExitError);
    backup = *kept;
  }
  // Replaces mesh.key atomically: on failure the old key is still there (and in the backup).
  if (Status st = secret->save(dir); !st.isOk()) return fail(err, st, kExitError);
  out << "joined mesh " << secret->tag() << "\n";
  if (!backup.empty()) err << "meshslice: the previous mesh key is kept as " << backup << "\n";
  return kExitOk;
}

int runAllowRevoke(const Invocation& inv, const std::string& dir, std::ostream& out, std::ostream& err) {
  const bool allow = inv.command == "mesh allow";
  auto id = DeviceId::parse(inv.args.at(0));
  if (!id) return fail(err, id.status(), kExitUsage);
  if (auto client = ControlClient::connect(controlSocketPath(dir)); client) {
    // The daemon applies it at once (a revoked peer is evicted) and rewrites allow.list.
    auto r = client->call(allow ? "mesh.allow" : "mesh.revoke", Json{{"device", id->toString()}}, kCallTimeoutMs);
    if (!r) return fail(err, r.status(), kExitError);
    out << (allow ? "allowed " : "revoked ") << id->toString() << " (allow-list: " << (*r)["devices"].size() << " devices)\n";
    return kExitOk;
  }
  auto list = loadAllowList(dir);
  if (!list) return fail(err, list.status(), kExitError);
  if (!allow && !list->has_value())
    return fail(err, Status(Code::kNotFound, "the allow-list is off (anyone with the invite may join): add devices with `meshslice mesh allow`, or revoke while the daemon runs (it keeps the devices connected now)"), kExitError);
  std::set<DeviceId> ids = list->value_or(std::set<DeviceId>());
  if (allow) ids.insert(*id);
  else ids.erase(*id);
  if (Status st = saveAllowList(dir, ids); !st.isOk()) return fail(err, st, kExitError);
  out << (allow ? "allowed " : "revoked ") << id->toString() << " (allow-list: " << ids.size() << " devices)\n";
  return kExitOk;
}

// `mesh allow-list`: the daemon's list while it runs (it may have changed since the start),
// else the file.
int runAllowList(const Invocation& inv, const std::string& dir, std::ostream& out, std::ostream& err) {
  bool enabled = false;
  std::vector<std::string> devices;
  if (auto client = ControlClient::connect(controlSocketPath(dir)); client) {
    auto r = client->call("mesh.allow_list", Json::object(), kCallTimeoutMs);
    if (!r) return fail(err, r.status(), kExitError);
    enabled = (*r)["enabled"] == true;
    for (const auto& d : (*r)["devices"]) devices.push_back(d.get<std::string>());
  } else {
    auto list = loadAllowList(dir);
    if (!list) return fail(err, list.status(), kExitError);
    enabled = list->has_value();
    if (enabled)
      for (const auto& id : **list) devices.push_back(id.toString());
  }
  if (inv.json) out << dumpJson(Json{{"enabled", enabled}, {"devices", devices}}) << "\n";
  else if (!enabled) out << "the allow-list is off: any device with the invite may join\n";
  else if (devices.empty()) out << "the allow-list is on and empty: no device may join\n";
  else
    for (const auto& d : devices) out << d << "\n";
  return kExitOk;
}

}  // namespace

int runInvocation(const Invocation& inv, std::ostream& out, std::ostream& err, const GetEnvFn& getenv) {
  if (inv.help) {
    out << *inv.help;
    return kExitOk;
  }
  if (inv.command == "up") {
    auto config = resolveDaemonConfig(inv, getenv);
    if (!config) return fail(err, config.status(), config.status().code() == Code::kInvalidArgument ? kExitUsage : kExitError);
    setLogLevel(config->log_level);
    setLogFormat(config->log_format);
    std::signal(SIGPIPE, SIG_IGN);
    std::signal(SIGHUP, SIG_IGN);  // until the daemon's loop handles it (a reload)
    // A reload re-resolves the same layers: this invocation's flags, the environment, the file.
    Daemon daemon(*config, [inv, getenv] { return resolveDaemonConfig(inv, getenv); });
    return daemon.run(out, err);
  }
  LogLevel level = LogLevel::kWarn;
  if (inv.flags.log_level) level = *inv.flags.log_level;
  else if (const char* env = getenv("MESHSLICE_LOG_LEVEL"); env && *env) parseLogLevel(env, level);
  setLogLevel(level);
  LogFormat format = LogFormat::kText;
  if (inv.flags.log_format) format = *inv.flags.log_format;
  else if (const char* env = getenv("MESHSLICE_LOG_FORMAT"); env && *env) parseLogFormat(env, format);
  setLogFormat(format);
  auto dir = resolveStateDir(inv, getenv);
  if (!dir) return fail(err, dir.status(), kExitUsage);
  if (inv.command == "id") return runId(inv, *dir, out, err);
  if (!inv.flags.state_dir && !(getenv("MESHSLICE_STATE_DIR") && *getenv("MESHSLICE_STATE_DIR")) &&
      inv.command.rfind("mesh", 0) != 0)
    dir = clientStateDir(*dir, std::string(kSystemStateDir));  // the system daemon's, if the user has none
  if (inv.command == "mesh invite") return runInvite(inv, *dir, out, err);
  if (inv.command == "mesh join") return runJoin(inv, *dir, out, err);
  if (inv.command == "mesh allow" || inv.command == "mesh revoke") return runAllowRevoke(inv, *dir, out, err);
  if (inv.command == "mesh allow-list") return runAllowList(inv, *dir, out, err);
  if (inv.command == "http token" || inv.command == "http url") return runHttpCommand(inv, *dir, out, err);
  return runClientCommand(inv, *dir, out, err);
}

int runCli(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  auto inv = parseCommandLine(args);
  if (!inv) {
    std::cerr << "meshslice: " << inv.status().message() << " (see meshslice --help)" << std::endl;
    return kExitUsage;
  }
  return runInvocation(*inv, std::cout, std::cerr, [](const char* name) { return std::getenv(name); });
}

}  // namespace meshslice
