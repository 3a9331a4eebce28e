#include "tests/support/kill_trials.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

namespace moeplan::testing {
namespace fs = std::filesystem;
namespace {

using Clock = std::chrono::steady_clock;

// The process's state letter and process group from /proc/PID/stat; nothing once it is gone.
struct ProcStat {
  char state = '?';
  pid_t group = 0;
};
std::optional<ProcStat> proc_stat(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!std::getline(in, text)) return std::nullopt;
  const auto close = text.rfind(')');  // the command name may hold spaces and parentheses
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(text.substr(close + 1));
  ProcStat s;
  pid_t parent = 0;
  rest >> s.state >> parent >> s.group;
  if (!rest) return std::nullopt;
  return s;
}

// Waits until every process in `pids` has stopped (or is gone): SIGSTOP is asynchronous.
void wait_stopped(const std::vector<pid_t>& pids) {
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  for (const pid_t pid : pids) {
    for (;;) {
      const auto s = proc_stat(pid);
      if (!s || s->state == 'T' || s->state == 't' || s->state == 'Z' || s->state == 'X') break;
      if (Clock::now() > deadline) break;
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  }
}

void reap_children() {
  int status = 0;
  while (::waitpid(-1, &status, WNOHANG) > 0) {
  }
}

}  // namespace

pid_t start_moeplan_group(const std::vector<std::string>& args, const fs::path& log) {
  const pid_t pid = ::fork();
  if (pid < 0) std::abort();
  if (pid > 0) {
    ::setpgid(pid, pid);  // both sides, so neither races the other
    return pid;
  }
  ::setpgid(0, 0);
  const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  const int in = ::open("/dev/null", O_RDONLY);
  ::dup2(in, STDIN_FILENO);
  ::dup2(out, STDOUT_FILENO);
  ::dup2(out, STDERR_FILENO);
  std::vector<char*> argv = {const_cast<char*>(MOEPLAN_BINARY)};
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  ::execv(MOEPLAN_BINARY, argv.data());
  ::_exit(127);
}

std::optional<int> wait_exit(pid_t pid, double seconds) {
  const auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
  for (;;) {
    int status = 0;
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (r < 0 && errno != EINTR) return -1;  // not our child (already reaped)
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
}

namespace {

// Whether any open file of `pid` satisfies `match` (its /proc/PID/fd link target).
template <class Match>
bool any_open_file(pid_t pid, const Match& match) {
  const std::string fd_dir = "/proc/" + std::to_string(pid) + "/fd";
  DIR* d = ::opendir(fd_dir.c_str());
  if (!d) return false;
  bool found = false;
  while (const dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    char target[4096];
    const std::string link = fd_dir + "/" + e->d_name;
    const ssize_t n = ::readlink(link.c_str(), target, sizeof target - 1);
    if (n > 0 && match(std::string(target, static_cast<std::size_t>(n)))) found = true;
  }
  ::closedir(d);
  return found;
}

}  // namespace

bool writing_under(pid_t pid, const fs::path& dir) {
  std::error_code ec;
  const std::string prefix = fs::weakly_canonical(dir, ec).string() + "/";
  return any_open_file(pid, [&](const std::string& t) {
    if (!t.starts_with(prefix)) return false;
    const std::string name = t.substr(t.rfind('/') + 1);
    return name.find(".tmp") != std::string::npos || t.ends_with(" (deleted)");
  });
}

bool holds_open(pid_t pid, const fs::path& file) {
  std::error_code ec;
  const std::string wanted = fs::weakly_canonical(file, ec).string();
  return any_open_file(pid, [&](const std::string& t) { return t == wanted; });
}

std::vector<pid_t> group_members(pid_t group) {
  std::vector<pid_t> members;
  DIR* d = ::opendir("/proc");
  if (!d) return members;
  while (const dirent* e = ::readdir(d)) {
    char* end = nullptr;
    const long pid = std::strtol(e->d_name, &end, 10);
    if (pid <= 0 || *end != '\0') continue;
    const auto s = proc_stat(static_cast<pid_t>(pid));
    if (s && s->group == group && s->state != 'Z' && s->state != 'X')
      members.push_back(static_cast<pid_t>(pid));
  }
  ::closedir(d);
  return members;
}

bool freeze_and_kill_group(pid_t group, const fs::path& dir) {
  ::kill(-group, SIGSTOP);
  const std::vector<pid_t> members = group_members(group);
  wait_stopped(members);
  bool writing = false;
  for (const pid_t pid : members) writing = writing_under(pid, dir) || writing;
  ::kill(-group, SIGKILL);
  int status = 0;
  ::waitpid(group, &status, 0);
  return writing;
}

bool freeze_and_kill_one(pid_t pid, const fs::path& dir) {
  ::kill(pid, SIGSTOP);
  wait_stopped({pid});
  const bool writing = writing_under(pid, dir);
  ::kill(pid, SIGKILL);
  return writing;
}

void reap_orphans() {
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
}

bool wait_group_gone(pid_t group, double seconds) {
  const auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
  for (;;) {
    reap_children();
    if (group_members(group).empty()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

std::vector<fs::path> temp_files_under(const fs::path& dir) {
  std::vector<fs::path> found;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec))
    if (it->path().filename().string().find(".tmp") != std::string::npos)
      found.push_back(it->path());
  return found;
}

int trials_from_env(const char* name, int fallback) {
  const char* text = std::getenv(name);
  if (!text || !*text) return fallback;
  const int n = std::atoi(text);
  return n > 0 ? n : fallback;
}

}  // namespace moeplan::testing
