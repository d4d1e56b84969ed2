#include "examples/common/example_cli.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "base/log.h"

namespace meshslice::examples {

namespace {

[[noreturn]] void usage(const std::string& example, const std::string& extra, const std::string& error) {
  if (!error.empty()) std::fprintf(stderr, "%s: %s\n", example.c_str(), error.c_str());
  std::fprintf(stderr,
               "usage: %s --invite INVITE [--name NAME] [--listen HOST:PORT] [--peer HOST:PORT]...\n"
               "          [--state-dir DIR] [--mdns-interface IF]... [--mdns-port PORT] [--mdns]\n"
               "          [--run-for SECONDS] [--log LEVEL]%s\n"
               "       %s --new-invite\n",
               example.c_str(), extra.c_str(), example.c_str());
  std::exit(2);
}

}  // namespace

ExampleArgs parseArgs(int argc, char** argv, const std::string& example, const std::string& usage_extra,
                      const std::vector<std::string>& extra_flags) {
  ExampleArgs args;
  args.name = example;
  setLogLevel(LogLevel::kWarn);
  std::string invite;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--new-invite") {
      std::printf("%s\n", MeshSecret::generate().toInvite().c_str());
      std::exit(0);
    }
    if (flag == "--mdns") {
      args.mdns_everywhere = true;
      continue;
    }
    if (flag == "--help" || flag == "-h") usage(example, usage_extra, "");
    if (i + 1 >= argc) usage(example, usage_extra, flag + " needs a value");
    const std::string value = argv[++i];
    if (flag == "--invite") invite = value;
    else if (flag == "--name") args.name = value;
    else if (flag == "--listen") args.listen = value;
    else if (flag == "--peer") args.peers.push_back(value);
    else if (flag == "--state-dir") args.state_dir = value;
    else if (flag == "--mdns-interface") args.mdns_interfaces.push_back(value);
    else if (flag == "--mdns-port") args.mdns_port = static_cast<uint16_t>(std::atoi(value.c_str()));
    else if (flag == "--run-for") args.run_for_seconds = std::atof(value.c_str());
    else if (flag == "--log") {
      LogLevel level;
      if (!parseLogLevel(value, level)) usage(example, usage_extra, "bad --log level " + value);
      setLogLevel(level);
    } else if (std::find(extra_flags.begin(), extra_flags.end(), flag) != extra_flags.end()) {
      args.extra.push_back(flag);
      args.extra.push_back(value);
    } else {
      usage(example, usage_extra, "unknown flag " + flag);
    }
  }
  if (invite.empty()) usage(example, usage_extra, "--invite is required (make one with --new-invite)");
  auto secret = MeshSecret::fromInvite(invite);
  if (!secret) usage(example, usage_extra, secret.status().message());
  args.secret = std::move(secret).value();
  if (Status st = validateDeviceName(args.name); !st.isOk()) usage(example, usage_extra, st.message());
  return args;
}

std::string extraFlag(const ExampleArgs& args, const std::string& flag, const std::string& fallback) {
  for (size_t i = 0; i + 1 < args.extra.size(); i += 2)
    if (args.extra[i] == flag) return args.extra[i + 1];
  return fallback;
}

MeshNodeOptions nodeOptions(const ExampleArgs& args) {
  MeshNodeOptions o;
  o.mesh.listen_address = args.listen;
  o.mesh.static_peers = args.peers;
  o.mdns = args.mdns_everywhere || !args.mdns_interfaces.empty();
  o.mdns_options.interfaces = args.mdns_interfaces;
  if (args.mdns_port) o.mdns_options.port = args.mdns_port;
  // Loopback has no IPv6 multicast route by default; a loopback-only mesh needs only IPv4.
  const bool only_lo = !args.mdns_interfaces.empty() &&
                       std::all_of(args.mdns_interfaces.begin(), args.mdns_interfaces.end(),
                                   [](const std::string& i) { return i == "lo"; });
  if (only_lo) o.mdns_options.ipv6 = false;
  return o;
}

Identity loadIdentity(const ExampleArgs& args) {
  if (args.state_dir.empty()) return Identity::generate(args.name);
  auto identity = Identity::loadOrCreate(args.state_dir, args.name);
  if (!identity) {
    std::fprintf(stderr, "%s\n", identity.status().toString().c_str());
    std::exit(1);
  }
  return std::move(identity).value();
}

void say(const std::string& line) {
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  std::fputs((line + "\n").c_str(), stdout);
  std::fflush(stdout);
}

CommandReader::CommandReader(const ExampleArgs& args) : interactive_(isatty(0) != 0) {
  if (args.run_for_seconds > 0) {
    deadline_ = std::chrono::steady_clock::now() +
                std::chrono::milliseconds(static_cast<int64_t>(args.run_for_seconds * 1000));
  }
}

bool CommandReader::next(std::string& line) {
  if (interactive_) {
    std::fputs("> ", stdout);
    std::fflush(stdout);
  }
  while (true) {
    int timeout_ms = -1;
    if (deadline_) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline_ - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      timeout_ms = static_cast<int>(left.count());
    }
    if (eof_) {
      if (!deadline_) return false;
      poll(nullptr, 0, timeout_ms);  // stdin is done: just wait out --run-for
      continue;
    }
    if (readLine(line, timeout_ms)) return line != "quit" && line != "/quit";
  }
}

// One line from stdin within `timeout_ms` (-1: no limit); false on timeout or EOF.
bool CommandReader::readLine(std::string& line, int timeout_ms) {
  while (true) {
    if (size_t nl = buffer_.find('\n'); nl != std::string::npos) {
      line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return true;
    }
    pollfd fd{0, POLLIN, 0};
    int ready = poll(&fd, 1, timeout_ms);
    if (ready <= 0) return false;
    char chunk[4096];
    ssize_t n = read(0, chunk, sizeof chunk);
    if (n <= 0) {
      eof_ = true;
      if (buffer_.empty()) return false;
      line = std::move(buffer_);  // a last line without '\n'
      buffer_.clear();
      return true;
    }
    buffer_.append(chunk, static_cast<size_t>(n));
  }
}

}  // namespace meshslice::examples
