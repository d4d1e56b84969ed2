#include "node/daemon.h"

#include <grp.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <filesystem>
#include <optional>

#include "base/log.h"
#include "mesh/mesh_node.h"
#include "node/config_reload.h"
#include "node/control_server.h"
#include "node/control_service.h"
#include "node/exit_codes.h"
#include "node/http_endpoint.h"
#include "node/state_dir.h"
#include "node/store_hub.h"
#include "store/file_persistence.h"

namespace meshslice {
namespace {

// systemd's readiness protocol (sd_notify(3)) without libsystemd: one datagram to
// $NOTIFY_SOCKET. A no-op when not started by systemd with Type=notify.
void notifySystemd(const char* state) {
  const char* path = std::getenv("NOTIFY_SOCKET");
  if (!path || (path[0] != '/' && path[0] != '@')) return;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  size_t len = std::strlen(path);
  if (len >= sizeof addr.sun_path) return;
  std::memcpy(addr.sun_path, path, len);
  if (addr.sun_path[0] == '@') addr.sun_path[0] = '\0';  // abstract namespace
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  ::sendto(fd, state, std::strlen(state), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&addr),
           static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len));
  ::close(fd);
}

int exitCodeFor(const Status& st) {
  switch (st.code()) {
    case Code::kAlreadyExists: return kExitAlreadyRunning;
    case Code::kInvalidArgument: return kExitUsage;
    default: return kExitError;
  }
}

// Store IDs with a persisted slice in <state-dir>/stores (other files are not ours: skipped).
std::vector<std::string> persistedStores(const std::string& dir) {
  std::vector<std::string> ids;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    if (name.size() <= kSliceFileSuffix.size() || !name.ends_with(kSliceFileSuffix)) continue;
    std::string id = name.substr(0, name.size() - kSliceFileSuffix.size());
    if (validateStoreId(id).isOk()) ids.push_back(std::move(id));
  }
  return ids;
}

// --control-group: the socket becomes <owner>:<group> 0660, so the group's members may use the
// daemon without sudo (the systemd unit's `meshslice` group).
Status shareWithGroup(const std::string& path, const std::string& group_name) {
  std::vector<char> buf(16384);
  struct group entry{};
  struct group* found = nullptr;
  int rc = ::getgrnam_r(group_name.c_str(), &entry, buf.data(), buf.size(), &found);
  if (rc != 0 || !found) return invalidArgument("control-group '" + group_name + "': no such group");
  if (::chown(path.c_str(), static_cast<uid_t>(-1), found->gr_gid) != 0 || ::chmod(path.c_str(), 0660) != 0)
    return ioError("control socket " + path + ": cannot give it to group " + group_name + ": " + std::strerror(errno));
  return Status::ok();
}

}  // namespace

// Everything that lives on the node's loop thread; created and destroyed there.
struct Daemon::Runtime {
  std::unique_ptr<StoreHub> stores;
  std::unique_ptr<ControlService> service;
  std::unique_ptr<ControlServer> server;
  std::unique_ptr<HttpEndpoint> http;  // only with --http
  UvHandle<uv_signal_t> sigint, sigterm, sighup;
  MeshCore* core = nullptr;
  DaemonConfig running;  // as last (re)loaded
  Daemon::ConfigSource reread;

  Status start(MeshNode& node, Daemon& daemon, const DaemonConfig& config, DaemonInfo info,
               std::optional<std::set<DeviceId>> allow) {
    core = &node.core();
    const int64_t started_at_ms = info.started_at_ms;
    stores = std::make_unique<StoreHub>(node.env(), *core, storesDir(config.state_dir), [this](const Json& e) {
      if (service) service->broadcast(e);
    });
    service = std::make_unique<ControlService>(*core, *stores, std::move(info), [&daemon] { daemon.requestStop(); });
    service->setAllowList(std::move(allow));
    core->addObserver(service.get());
    for (const auto& c : config.contracts)
      if (auto e = parseContractEntry(c)) stores->declareContract(e->first, e->second);  // validated
    std::vector<std::string> ids = persistedStores(storesDir(config.state_dir));
    ids.insert(ids.end(), config.stores.begin(), config.stores.end());
    for (const auto& id : ids) MS_RETURN_IF_ERROR(stores->open(id));
    server = std::make_unique<ControlServer>(node.env(), node.loop().uv(), *service);
    MS_RETURN_IF_ERROR(server->listen(controlSocketPath(config.state_dir)));
    if (!config.control_group.empty()) MS_RETURN_IF_ERROR(shareWithGroup(controlSocketPath(config.state_dir), config.control_group));
    if (!config.http.empty()) {
      auto endpoint = HttpEndpoint::start({node.env(), node.loop().uv(), *core, *stores, *service, *server, started_at_ms},
                                          config.state_dir, config.http, config.http_origins);
      if (!endpoint) return endpoint.status();
      http = std::move(endpoint.value());
      service->setHttpAddress(http->address());
    }
    MS_RETURN_IF_ERROR(watchSignal(node, daemon, sigint, SIGINT));
    MS_RETURN_IF_ERROR(watchSignal(node, daemon, sigterm, SIGTERM));
    running = config;
    reread = daemon.reread_;
    return watchReload(node);
  }

  Status watchReload(MeshNode& node) {
    int rc = uv_signal_init(node.loop().uv(), sighup.get());
    if (rc == 0) {
      sighup.markInitialized(this);
      rc = uv_signal_start(sighup.get(), [](uv_signal_t* h, int) {
        if (auto* r = ownerOf<Runtime>(h)) r->reload();
      }, SIGHUP);
    }
    return rc == 0 ? Status::ok() : ioError(std::string("SIGHUP handler: ") + uv_strerror(rc));
  }

  // SIGHUP, on the loop thread: applies what can change while running, names what cannot. A
  // bad config file or allow.list changes nothing (the daemon keeps running as it was).
  void reload() {
    MS_LOG(kInfo, "daemon") << "got SIGHUP, reloading";
    DaemonConfig next = running;
    if (reread) {
      auto resolved = reread();
      if (!resolved) {
        MS_LOG(kError, "daemon") << "reload failed, nothing changed: " << resolved.status().message();
        return;
      }
      next = std::move(resolved.value());
    }
    auto allow = loadAllowList(running.state_dir);
    if (!allow) {
      MS_LOG(kError, "daemon") << "reload failed, nothing changed: " << allow.status().message();
      return;
    }
    ReloadPlan plan = planReload(running, next);
    std::string applied;
    auto note = [&](const std::string& what) { applied += (applied.empty() ? "" : ", ") + what; };
    if (plan.log_level) {
      setLogLevel(next.log_level);
      note(std::string("log-level ") + logLevelName(next.log_level));
    }
    if (plan.log_format) {
      setLogFormat(next.log_format);
      note(std::string("log-format ") + (next.log_format == LogFormat::kJson ? "json" : "text"));
    }
    if (plan.peers) {
      core->setStaticPeers(next.peers);
      note(std::to_string(next.peers.size()) + " static peer(s)");
    }
    for (const auto& id : plan.new_stores) {
      if (Status st = stores->open(id); !st.isOk()) MS_LOG(kError, "daemon") << "reload: store " << id << ": " << st.message();
      else note("store " + id);
    }
    core->setAllowList(*allow);
    service->setAllowList(*allow);
    note(allow->has_value() ? "allow-list (" + std::to_string((*allow)->size()) + " devices)" : "allow-list off");
    MS_LOG(kInfo, "daemon") << "reloaded: " << applied;
    if (!plan.needs_restart.empty()) {
      std::string keys;
      for (const auto& k : plan.needs_restart) keys += (keys.empty() ? "" : ", ") + k;
      MS_LOG(kWarn, "daemon") << "not reloaded (restart to apply): " << keys;
    }
    // Only what was applied changes; the rest stays as it runs, so the next reload names it again.
    running.log_level = next.log_level;
    running.log_format = next.log_format;
    running.peers = next.peers;
    running.stores = next.stores;
  }

  static Status watchSignal(MeshNode& node, Daemon& daemon, UvHandle<uv_signal_t>& handle, int signum) {
    int rc = uv_signal_init(node.loop().uv(), handle.get());
    if (rc == 0) {
      handle.markInitialized(&daemon);
      rc = uv_signal_start(handle.get(), [](uv_signal_t* h, int sig) {
        MS_LOG(kInfo, "daemon") << "got " << (sig == SIGINT ? "SIGINT" : "SIGTERM") << ", stopping";
        if (auto* d = ownerOf<Daemon>(h)) d->requestStop();
      }, signum);
    }
    return rc == 0 ? Status::ok() : ioError(std::string("signal handler: ") + uv_strerror(rc));
  }

  // Loop thread; leaves no handle of ours open.
  void stop() {
    sigint.close();
    sigterm.close();
    sighup.close();
    // libuv puts SIGHUP back to its default action (terminate) once its last handle stops: a
    // hang-up during the rest of the shutdown must not cut the goodbyes short.
    std::signal(SIGHUP, SIG_IGN);
    if (http) http->stop();
    if (server) server->stop();
    if (core && service) core->removeObserver(service.get());
    if (stores) stores->stop();
    http.reset();
    server.reset();
    service.reset();
    stores.reset();
  }
};

Daemon::Daemon(DaemonConfig config, ConfigSource reread) : config_(std::move(config)), reread_(std::move(reread)) {}
Daemon::~Daemon() = default;

void Daemon::requestStop() {
  {
    std::lock_guard lock(mutex_);
    stop_requested_ = true;
  }
  cv_.notify_all();
}

void Daemon::waitForStop() {
  std::unique_lock lock(mutex_);
  cv_.wait(lock, [this] { return stop_requested_; });
}

// What `up` loads from the state directory before the node starts. A first start makes the
// identity and the mesh in memory only: they are written once the node runs (persistNew()).
struct Daemon::State {
  Identity identity;
  MeshSecret secret;
  bool new_identity = false;
  bool new_mesh = false;
  std::optional<std::set<DeviceId>> allow;
  std::vector<std::string> listen;
};

Result<Daemon::State> Daemon::loadState() {
  const std::string& dir = config_.state_dir;
  // Reads and checks only, so that a failed start creates nothing (no identity, no mesh).
  auto allow = loadAllowList(dir);
  if (!allow) return allow.status();
  auto listen = resolveListenAddresses(config_);
  if (!listen) return listen.status();
  for (const auto& id : persistedStores(storesDir(dir))) {
    FilePersistence file(storesDir(dir) + "/" + id + std::string(kSliceFileSuffix), id);
    if (auto loaded = file.load(); !loaded)
      return Status(loaded.status().code(), "store " + id + ": " + loaded.status().message() +
                                                " (move the file away to start the store empty)");
  }
  bool new_mesh = false;
  auto secret = MeshSecret::load(dir);
  if (!secret && secret.status().code() == Code::kNotFound) {
    secret = MeshSecret::generate();
    new_mesh = true;
  }
  if (!secret) return secret.status();
  bool new_identity = false;
  auto identity = Identity::load(dir + "/" + std::string(kIdentityFileName));
  if (!identity && identity.status().code() == Code::kNotFound) {
    identity = Identity::generate(config_.name.empty() ? defaultDeviceName() : config_.name);
    new_identity = true;
  }
  if (!identity) return identity.status();
  if (!config_.name.empty() && config_.name != identity->name())
    identity = Identity::fromPrivateKey(identity->privateKey(), config_.name);  // not saved
  return State{std::move(identity.value()), std::move(secret.value()), new_identity, new_mesh,
               std::move(allow.value()), std::move(listen.value())};
}

Status Daemon::persistNew(const Identity* identity, const MeshSecret* secret) const {
  const std::string& dir = config_.state_dir;
  const std::string identity_path = dir + "/" + std::string(kIdentityFileName);
  if (identity) {
    Status st = identity->save(identity_path, /*replace=*/false);
    if (!st.isOk()) return Status(st.code(), "cannot save the new identity: " + st.message());
  }
  if (secret) {
    // Never replaces a file: a mesh.key that appeared while we started (written by something
    // that ignores the key creation lock, e.g. an older build) must not be silently swapped for
    // ours, nor ours kept running while the disk names another mesh.
    Status st = secret->create(dir);
    if (!st.isOk()) {
      if (identity) ::unlink(identity_path.c_str());  // a failed start leaves nothing behind
      if (st.code() == Code::kAlreadyExists)
        return Status(st.code(), "another process created " + dir + "/" + std::string(kMeshKeyFileName) +
                                     " while this daemon was starting; start it again to use that mesh");
      return Status(st.code(), "cannot save the new mesh key: " + st.message());
    }
  }
  return Status::ok();
}

MeshNodeOptions Daemon::nodeOptions(const State& state) const {
  MeshNodeOptions options;
  options.mesh.listen_address = state.listen.front();
  options.mesh.extra_listen_addresses.assign(state.listen.begin() + 1, state.listen.end());
  options.mesh.static_peers = config_.peers;
  if (state.allow) {
    options.mesh.use_allow_list = true;
    options.mesh.allow_list = *state.allow;
  }
  options.mdns = config_.mdns;
  options.mdns_options.interfaces = config_.interfaces;
  options.mdns_options.port = config_.mdns_port;
  return options;
}

int Daemon::run(std::ostream& out, std::ostream& err) {
  auto fail = [&](const Status& st) {
    err << "meshslice: " << st.message() << std::endl;
    return exitCodeFor(st);
  };
  const std::string& dir = config_.state_dir;
  // Held from before the keys are read until the new ones are saved, so that a concurrent
  // `mesh invite` or `id` waits and reads ours (or we read theirs) instead of making a second
  // mesh or identity. Taken before the daemon lock, so that a CLI holding it for a moment makes
  // us wait, not fail as "already running"; released after it on every failure path (declared
  // first, destroyed last), so a CLI that was waiting finds no daemon and may create the keys.
  std::optional<KeyCreationLock> keys;
  if (auto k = KeyCreationLock::acquire(dir); k) keys.emplace(std::move(k).value());
  else return fail(k.status());
  auto lock = DaemonLock::acquire(dir);
  if (!lock) return fail(lock.status());
  auto state = loadState();
  if (!state) return fail(state.status());
  const bool new_mesh = state->new_mesh;
  const std::string invite = new_mesh ? state->secret.toInvite() : "";
  std::optional<Identity> new_identity;  // a copy to save once the node runs
  if (state->new_identity) new_identity = Identity::fromPrivateKey(state->identity.privateKey(), state->identity.name());
  DaemonInfo info{dir, state->secret.tag(), config_.mdns, config_.interfaces, 0, ""};
  MeshNode node(std::move(state->identity), state->secret, nodeOptions(*state));
  if (Status st = node.start(); !st.isOk()) return fail(Status(st.code(), "cannot start the node: " + st.message()));

  Runtime runtime;
  info.started_at_ms = node.env().wallMillis();
  std::vector<std::string> listening;
  std::string http_address;
  Status started = node.call([&](MeshCore& core) {
    listening = core.listenAddresses();
    Status st = runtime.start(node, *this, config_, info, state->allow);
    if (!st.isOk()) runtime.stop();
    else if (runtime.http) http_address = runtime.http->address();
    return st;
  });
  if (started.isOk()) started = persistNew(new_identity ? &*new_identity : nullptr, new_mesh ? &state->secret : nullptr);
  if (started.isOk()) keys.reset();  // the keys on disk are the ones this node runs with
  if (!started.isOk()) {
    node.call([&](MeshCore&) {
      runtime.stop();
      return 0;
    });
    node.stop();
    // (kAlreadyExists here is a key file that appeared meanwhile, not another daemon.)
    return started.code() == Code::kAlreadyExists ? (fail(started), kExitError) : fail(started);
  }
  out << "device: " << node.id().toString() << "\n"
      << "name: " << node.name() << "\n";
  for (const auto& address : listening) out << "listen: " << address << "\n";
  out << "control: " << controlSocketPath(dir) << "\n";
  if (!http_address.empty()) out << "http: " << http_address << "\n";
  if (new_mesh) out << "invite: " << invite << "\n";
  out << "ready" << std::endl;
  if (new_mesh)
    MS_LOG(kInfo, "daemon") << "created a new mesh; other devices join it with `meshslice mesh join <invite>`";
  notifySystemd("READY=1");

  waitForStop();
  notifySystemd("STOPPING=1");
  MS_LOG(kInfo, "daemon") << "shutting down";
  node.call([&](MeshCore&) {
    runtime.stop();
    return 0;
  });
  node.stop();  // goodbyes on every link and over mDNS; joins the loop thread
  MS_LOG(kInfo, "daemon") << "stopped";
  return kExitOk;
}

Result<std::vector<std::string>> resolveListenAddresses(const DaemonConfig& config) {
  if (config.listen != kDefaultListen || config.interfaces.empty()) return std::vector<std::string>{config.listen};
  uv_interface_address_t* addrs = nullptr;
  int count = 0;
  if (uv_interface_addresses(&addrs, &count) != 0) return ioError("cannot list network interfaces");
  std::vector<std::string> found;
  std::string missing;
  for (const std::string& name : config.interfaces) {
    bool any = false;
    for (int i = 0; i < count; ++i) {
      if (name != addrs[i].name || addrs[i].address.address4.sin_family != AF_INET) continue;
      char text[INET_ADDRSTRLEN] = {};
      uv_ip4_name(&addrs[i].address.address4, text, sizeof text);
      std::string address = std::string(text) + ":0";
      any = true;
      if (std::find(found.begin(), found.end(), address) == found.end()) found.push_back(address);
    }
    if (!any && missing.empty()) missing = name;
  }
  uv_free_interface_addresses(addrs, count);
  if (!missing.empty()) return invalidArgument("interface " + missing + " has no IPv4 address");
  return found;
}

std::string defaultDeviceName() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) return "meshslice";
  std::string name(host);
  if (name.size() > kMaxNameLength) name.resize(kMaxNameLength);
  return validateDeviceName(name).isOk() && !name.empty() ? name : "meshslice";
}

}  // namespace meshslice
