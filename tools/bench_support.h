// Helpers shared by the benchmark tools (meshslice_bench, tcp_baseline): one monotonic clock
// for every process of a run, child processes speaking line protocols over pipes, percentiles
// and /proc readings. Header-only because tools/*.cc each build one binary.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

namespace meshslice::bench {

// CLOCK_MONOTONIC in nanoseconds: the same clock in every process on this machine, so a
// timestamp written by one process can be subtracted from a reading in another.
inline int64_t monoNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

inline void sleepUntilNs(int64_t due) {
  for (int64_t now = monoNs(); now < due; now = monoNs()) {
    int64_t left = due - now;
    // Sleep most of the way, spin the last 50 µs so pacing does not add timer slack.
    if (left > 60000) {
      timespec ts{0, static_cast<long>(left - 50000)};
      nanosleep(&ts, nullptr);
    }
  }
}

// p in [0, 1]; `v` is sorted in place.
inline double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  return v[i];
}

inline double median(std::vector<double> v) { return percentile(v, 0.5); }

struct Child {
  pid_t pid = -1;
  int in = -1, out = -1;
  std::string buffer;
  std::vector<std::string> lines;  // received, not yet consumed
  bool alive = true;
  int64_t spawned_ns = 0;
};

// Starts `wrapper... exe args...` (the wrapper, such as `ip netns exec NS`, may be empty; the
// first word is looked up in PATH) with stdin/stdout on pipes (stderr inherited). With
// `cpu` >= 0 the process is pinned to that CPU (sched_setaffinity, as `taskset -c` would).
inline Child spawnChild(const std::string& exe, const std::vector<std::string>& args,
                        const std::vector<std::string>& wrapper = {}, int cpu = -1) {
  int to_child[2], from_child[2];
  if (pipe(to_child) != 0 || pipe(from_child) != 0) std::exit(1);
  Child c;
  c.spawned_ns = monoNs();
  c.pid = fork();
  if (c.pid == 0) {
    dup2(to_child[0], 0);
    dup2(from_child[1], 1);
    close(to_child[0]);
    close(to_child[1]);
    close(from_child[0]);
    close(from_child[1]);
    if (cpu >= 0) {
      cpu_set_t set;
      CPU_ZERO(&set);
      CPU_SET(cpu, &set);
      if (sched_setaffinity(0, sizeof set, &set) != 0) _exit(126);
    }
    std::vector<char*> argv;
    for (const auto& w : wrapper) argv.push_back(const_cast<char*>(w.c_str()));
    argv.push_back(const_cast<char*>(exe.c_str()));
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execvp(argv[0], argv.data());
    _exit(127);
  }
  close(to_child[0]);
  close(from_child[1]);
  fcntl(to_child[1], F_SETFD, FD_CLOEXEC);
  fcntl(from_child[0], F_SETFD, FD_CLOEXEC);
  c.in = to_child[1];
  c.out = from_child[0];
  return c;
}

inline void tell(Child& c, const std::string& line) {
  std::string l = line + "\n";
  if (!c.alive || write(c.in, l.data(), l.size()) < 0) c.alive = false;
}

// Reads whatever the children printed, for at most `timeout_ms`, appending whole lines to
// each child's `lines`, until `done()` holds. Returns done().
inline bool pumpUntil(std::vector<Child*> kids, const std::function<bool()>& done, int timeout_ms) {
  const int64_t deadline = monoNs() + static_cast<int64_t>(timeout_ms) * 1000000;
  while (!done()) {
    int64_t left_ms = (deadline - monoNs()) / 1000000;
    if (left_ms <= 0) return false;
    std::vector<pollfd> fds;
    for (Child* k : kids) fds.push_back({k->alive ? k->out : -1, POLLIN, 0});
    if (poll(fds.data(), fds.size(), static_cast<int>(std::min<int64_t>(left_ms, 100))) < 0) return false;
    for (size_t i = 0; i < kids.size(); ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP))) continue;
      char buf[8192];
      ssize_t n = read(kids[i]->out, buf, sizeof buf);
      if (n <= 0) {
        kids[i]->alive = false;
        continue;
      }
      kids[i]->buffer.append(buf, static_cast<size_t>(n));
      size_t nl;
      while ((nl = kids[i]->buffer.find('\n')) != std::string::npos) {
        kids[i]->lines.push_back(kids[i]->buffer.substr(0, nl));
        kids[i]->buffer.erase(0, nl + 1);
      }
    }
  }
  return true;
}

// Takes the first line starting with `prefix` from the child's received lines.
inline bool takeLine(Child& c, const std::string& prefix, std::string* out) {
  for (auto it = c.lines.begin(); it != c.lines.end(); ++it) {
    if (it->rfind(prefix, 0) == 0) {
      if (out) *out = *it;
      c.lines.erase(it);
      return true;
    }
  }
  return false;
}

// Waits for a line starting with `prefix` from one child.
inline bool expectLine(Child& c, const std::string& prefix, std::string* out, int timeout_ms) {
  std::string line;
  bool ok = pumpUntil({&c}, [&] { return takeLine(c, prefix, &line); }, timeout_ms);
  if (ok && out) *out = line;
  return ok;
}

inline void reap(Child& c, bool kill_first) {
  if (c.pid <= 0) return;
  if (kill_first) kill(c.pid, SIGKILL);
  waitpid(c.pid, nullptr, 0);
  if (c.in >= 0) close(c.in);
  if (c.out >= 0) close(c.out);
  c.pid = -1;
  c.in = c.out = -1;
  c.alive = false;
}

// Resident set size in KiB (VmRSS), 0 if unknown.
inline long rssKb(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  while (f >> key) {
    if (key == "VmRSS:") {
      long kb = 0;
      f >> kb;
      return kb;
    }
    std::string rest;
    std::getline(f, rest);
  }
  return 0;
}

// CPU time of a process's live threads in seconds, at nanosecond resolution: the first field
// of /proc/<pid>/task/<tid>/schedstat, summed (/proc/<pid>/stat counts in 10 ms ticks, too
// coarse for cells of a few hundred updates).
inline double cpuSecondsFine(pid_t pid) {
  const std::string dir = "/proc/" + std::to_string(pid) + "/task";
  double total = 0;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] == '.') continue;
      std::ifstream f(dir + "/" + e->d_name + "/schedstat");
      unsigned long long ns = 0;
      if (f >> ns) total += static_cast<double>(ns) / 1e9;
    }
    closedir(d);
  }
  return total;
}

// User + system CPU time of a process in seconds (fields 14 and 15 of /proc/<pid>/stat).
inline double cpuSeconds(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string all((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  size_t close_paren = all.rfind(')');
  if (close_paren == std::string::npos) return 0;
  std::istringstream in(all.substr(close_paren + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && in >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// Parses "KEY=value" words of a line into a number, 0 if absent.
inline double field(const std::string& line, const std::string& key) {
  std::istringstream in(line);
  std::string word;
  while (in >> word) {
    if (word.rfind(key + "=", 0) == 0) return std::strtod(word.c_str() + key.size() + 1, nullptr);
  }
  return 0;
}

inline std::vector<std::string> splitComma(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string x; std::getline(in, x, ',');) out.push_back(x);
  return out;
}

inline std::string selfExe() {
  char buf[4096];
  ssize_t len = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (len <= 0) return {};
  buf[len] = 0;
  return buf;
}

}  // namespace meshslice::bench
