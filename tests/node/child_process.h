// Runs the real `meshslice` binary from tests: a Child whose stdout is read line by line with
// deadlines (stderr goes to a file so a chatty child never blocks), and run() for short
// commands. Every wait is bounded; a Child still running at destruction is killed.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace meshslice::test {

inline std::string meshsliceBinary() {
  const char* dir = std::getenv("MESHSLICE_BIN_DIR");
  return std::string(dir && *dir ? dir : MESHSLICE_BINARY_DIR) + "/meshslice";
}

// Runs in the forked child just before exec (e.g. to enter a namespace); returning false makes
// the child exit with code 126. It must only make system calls: no locks, no allocation.
using BeforeExec = bool (*)(void* arg);

class Child {
 public:
  // Starts meshslice with `args`; `stdin_data` is written to its stdin, which is then closed.
  Child(const std::vector<std::string>& args, const std::string& stderr_path, const std::string& stdin_data = "",
        BeforeExec before_exec = nullptr, void* before_exec_arg = nullptr) {
    int out[2], in[2];
    if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(in, O_CLOEXEC) != 0) std::abort();
    std::string bin = meshsliceBinary();
    std::vector<char*> argv;
    argv.push_back(bin.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(in[0], 0);
      ::dup2(out[1], 1);
      int err = ::open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (err >= 0) ::dup2(err, 2);
      if (before_exec && !before_exec(before_exec_arg)) ::_exit(126);
      ::execv(bin.c_str(), argv.data());
      ::_exit(127);
    }
    ::close(out[1]);
    ::close(in[0]);
    out_ = out[0];
    if (!stdin_data.empty()) {
      // Small inputs only (tests): fits the pipe buffer or the child reads it meanwhile.
      size_t done = 0;
      while (done < stdin_data.size()) {
        ssize_t n = ::write(in[1], stdin_data.data() + done, stdin_data.size() - done);
        if (n <= 0) break;
        done += static_cast<size_t>(n);
      }
    }
    ::close(in[1]);
  }
  ~Child() {
    if (pid_ > 0 && !exited_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0) ::close(out_);
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return pid_; }

  // The next stdout line (without '\n'), or nullopt at EOF or when timeout_ms passed.
  std::optional<std::string> readLine(int timeout_ms = 15000) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
      size_t nl = buffer_.find('\n');
      if (nl != std::string::npos) {
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return line;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
      if (left <= 0 || eof_) return std::nullopt;
      pollfd p{out_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
      char buf[65536];
      ssize_t n = ::read(out_, buf, sizeof buf);
      if (n <= 0) eof_ = true;
      else buffer_.append(buf, static_cast<size_t>(n));
    }
  }
  // Reads lines until one satisfies `pred`; returns it (nullopt on EOF / timeout).
  template <typename Pred>
  std::optional<std::string> readUntil(Pred pred, int timeout_ms = 15000) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
      if (left <= 0) return std::nullopt;
      auto line = readLine(static_cast<int>(left));
      if (!line) return std::nullopt;
      lines_.push_back(*line);
      if (pred(*line)) return line;
    }
  }
  // Everything left on stdout until EOF (bounded).
  std::string readRest(int timeout_ms = 15000) {
    std::string all;
    while (auto line = readLine(timeout_ms)) all += *line + "\n";
    return all + buffer_;
  }
  void signal(int sig) { ::kill(pid_, sig); }
  // Exit code; -1 if the child did not exit within timeout_ms (it is then killed), 128+N for
  // a signal.
  int wait(int timeout_ms = 20000) {
    if (exited_) return code_;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
      int status = 0;
      pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        exited_ = true;
        code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        return code_;
      }
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        exited_ = true;
        code_ = -1;
        return code_;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));  // polling waitpid
    }
  }
  // The exit code (as wait()) if the child has exited, nullopt while it runs; never blocks.
  std::optional<int> poll() {
    if (exited_) return code_;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) != pid_) return std::nullopt;
    exited_ = true;
    code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return code_;
  }
  const std::vector<std::string>& seenLines() const { return lines_; }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  std::string buffer_;
  bool eof_ = false;
  bool exited_ = false;
  int code_ = -1;
  std::vector<std::string> lines_;
};

struct RunResult {
  int code = -1;
  std::string out;
  std::string err;
};

inline std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs a short meshslice command to completion (bounded by timeout_ms).
inline RunResult run(const std::vector<std::string>& args, const std::string& scratch_dir,
                     const std::string& stdin_data = "", int timeout_ms = 20000,
                     BeforeExec before_exec = nullptr, void* before_exec_arg = nullptr) {
  static int counter = 0;
  std::string err_path = scratch_dir + "/run-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + ".err";
  RunResult r;
  {
    Child c(args, err_path, stdin_data, before_exec, before_exec_arg);
    r.out = c.readRest(timeout_ms);
    r.code = c.wait(timeout_ms);
  }
  r.err = readFile(err_path);
  ::unlink(err_path.c_str());
  return r;
}

}  // namespace meshslice::test
