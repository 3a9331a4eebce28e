#include "tests/support/disk_faults.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <exception>
#include <fstream>

namespace moeplan::testing {

const std::vector<std::string> kTrainArgs{
    "train",    "--d-model", "32",      "--layers", "1", "--heads", "2",   "--experts",
    "4",        "--context", "16",      "--batch",  "2", "--vocab", "256", "--random-data",
    "--device", "cpu",       "--steps", "4"};

std::vector<std::string> with(std::vector<std::string> args, const std::vector<std::string>& more) {
  args.insert(args.end(), more.begin(), more.end());
  return args;
}
namespace {

std::string read_all(int fd) {
  std::string text;
  char chunk[4096];
  for (;;) {
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return text;
    text.append(chunk, static_cast<std::size_t>(n));
  }
}

void write_fully(int fd, const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<std::size_t>(n);
  }
}

void set_file_limit(std::uint64_t limit_bytes) {
  const rlimit limit{static_cast<rlim_t>(limit_bytes), static_cast<rlim_t>(limit_bytes)};
  ::setrlimit(RLIMIT_FSIZE, &limit);
}

std::string status_text(int status) {
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "exit " + std::to_string(WEXITSTATUS(status));
}

bool write_proc_file(const char* path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  out.flush();
  return static_cast<bool>(out);
}

}  // namespace

CliResult run_moeplan_with_file_limit(const std::vector<std::string>& args,
                                      std::uint64_t limit_bytes) {
  int err_pipe[2];
  if (::pipe(err_pipe) != 0) return {};
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(err_pipe[0]);
    const int devnull = ::open("/dev/null", O_RDWR);
    ::dup2(devnull, 0);
    ::dup2(devnull, 1);
    ::dup2(err_pipe[1], 2);
    set_file_limit(limit_bytes);
    std::vector<std::string> words{MOEPLAN_BINARY};
    words.insert(words.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& w : words) argv.push_back(w.data());
    argv.push_back(nullptr);
    ::execv(MOEPLAN_BINARY, argv.data());
    ::_exit(127);
  }
  ::close(err_pipe[1]);
  CliResult r;
  r.err = read_all(err_pipe[0]);
  ::close(err_pipe[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

std::string in_child(const std::function<std::string()>& body) {
  int report_pipe[2];
  if (::pipe(report_pipe) != 0) return "child failed: no pipe";
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(report_pipe[0]);
    int code = 0;
    std::string report;
    try {
      report = body();
    } catch (const std::exception& e) {
      report = std::string("child failed: threw ") + e.what();
      code = 2;
    }
    write_fully(report_pipe[1], report);
    ::_exit(code);
  }
  ::close(report_pipe[1]);
  std::string report = read_all(report_pipe[0]);
  ::close(report_pipe[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || (WEXITSTATUS(status) != 0 && report.empty()))
    return "child failed: " + status_text(status);
  return report;
}

void limit_file_size(std::uint64_t limit_bytes) {
  std::signal(SIGXFSZ, SIG_IGN);
  set_file_limit(limit_bytes);
}

std::string mount_private_tmpfs(const std::filesystem::path& dir, std::uint64_t size_bytes) {
  const uid_t uid = ::getuid();
  const gid_t gid = ::getgid();
  if (::unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0)
    return std::string("cannot enter a user and mount namespace: ") + std::strerror(errno);
  // Root inside the namespace is this user outside it.
  if (!write_proc_file("/proc/self/setgroups", "deny") ||
      !write_proc_file("/proc/self/uid_map", "0 " + std::to_string(uid) + " 1") ||
      !write_proc_file("/proc/self/gid_map", "0 " + std::to_string(gid) + " 1"))
    return "cannot map this user into the namespace";
  if (::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
    return std::string("cannot make the mounts private: ") + std::strerror(errno);
  const std::string options = "size=" + std::to_string(size_bytes);
  if (::mount("tmpfs", dir.c_str(), "tmpfs", 0, options.c_str()) != 0)
    return std::string("cannot mount a tmpfs: ") + std::strerror(errno);
  return "";
}

std::string remount_read_only(const std::filesystem::path& dir, std::uint64_t size_bytes) {
  const std::string options = "size=" + std::to_string(size_bytes);
  if (::mount("tmpfs", dir.c_str(), "tmpfs", MS_REMOUNT | MS_RDONLY, options.c_str()) != 0)
    return std::string("cannot remount the tmpfs read-only: ") + std::strerror(errno);
  return "";
}

std::string hide_proc() {
  if (::mount("tmpfs", "/proc", "tmpfs", 0, "size=4096") != 0)
    return std::string("cannot cover /proc: ") + std::strerror(errno);
  return "";
}

std::vector<std::string> directory_names(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec))
    names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

bool unnamed_temporary_files_work(const std::filesystem::path& dir) {
  const int fd = ::open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  ::close(fd);
  return ::access("/proc/self/fd", X_OK) == 0;
}

}  // namespace moeplan::testing
