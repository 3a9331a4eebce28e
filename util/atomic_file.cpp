#include "util/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <random>
#include <string>

#include "util/error.h"
#include "util/files.h"

namespace moeplan {
namespace {

constexpr int kNameAttempts = 100;  // random temporary names tried before giving up
constexpr mode_t kFileMode = 0666;  // less the umask, as std::ofstream would create it

std::filesystem::path directory_of(const std::filesystem::path& path) {
  return path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
}

std::filesystem::path temporary_name(const std::filesystem::path& target) {
  std::random_device rd;  // one per call: writers may run on several threads
  auto name = target;
  name += ".tmp" + std::to_string(rd());
  return name;
}

// O_TMPFILE's errors on a filesystem or kernel without it (EISDIR: kernels before 3.11 read the
// flag as O_DIRECTORY).
bool unnamed_files_unsupported(int error_number) {
  return error_number == EOPNOTSUPP || error_number == EISDIR || error_number == EINVAL;
}

// The rename is durable only once the directory is: best effort, the file is in place already.
void sync_directory(const std::filesystem::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

AtomicFile::AtomicFile(const std::filesystem::path& target) : target_(target) {
  struct stat existing;
  // Renaming over a device or a pipe (/dev/stdout as root) would replace it with a plain file.
  if (::stat(target.c_str(), &existing) == 0 && !S_ISREG(existing.st_mode))
    fail_writing(target, "not a regular file");
  // An unnamed file must be given its name through /proc/self/fd (linkat without /proc needs
  // privileges), so without /proc the named file is used from the start.
  if (::access("/proc/self/fd", X_OK) == 0) {
    fd_ = ::open(directory_of(target).c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, kFileMode);
    if (fd_ >= 0) return;
    if (!unnamed_files_unsupported(errno)) fail_writing(target, errno);
  }
  open_named();
}

void AtomicFile::open_named() {
  for (int attempt = 0; attempt < kNameAttempts; ++attempt) {
    const auto name = temporary_name(target_);
    fd_ = ::open(name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, kFileMode);
    if (fd_ >= 0) {
      temp_ = name;
      return;
    }
    if (errno != EEXIST && errno != EINTR) fail_writing(target_, errno);
  }
  fail_writing(target_, EEXIST);
}

// Gives the unnamed file a name: the target's itself when there is none yet (linkat never
// replaces a file; returns true), else a temporary one that rename() then moves over the target.
bool AtomicFile::link_unnamed() {
  const std::string self = "/proc/self/fd/" + std::to_string(fd_);
  if (::linkat(AT_FDCWD, self.c_str(), AT_FDCWD, target_.c_str(), AT_SYMLINK_FOLLOW) == 0)
    return true;
  if (errno != EEXIST) fail_writing(target_, errno);
  for (int attempt = 0; attempt < kNameAttempts; ++attempt) {
    const auto name = temporary_name(target_);
    if (::linkat(AT_FDCWD, self.c_str(), AT_FDCWD, name.c_str(), AT_SYMLINK_FOLLOW) == 0) {
      temp_ = name;
      return false;
    }
    if (errno != EEXIST) fail_writing(target_, errno);
  }
  fail_writing(target_, EEXIST);
}

void AtomicFile::commit() {
  // fsync before the rename: otherwise a crash or power loss soon after can leave the *new* name
  // on an empty or partly written file (the rename reaches the disk before the data does), and
  // the previous file would be lost. It also reports a full disk that write(2) did not (delayed
  // allocation, NFS, quotas).
  if (::fsync(fd_) != 0) fail_writing(target_, errno);
  const bool linked_as_target = temp_.empty() && link_unnamed();
  const int fd = fd_;
  fd_ = -1;
  // close() can report a write that failed late (NFS); the file must not be used then.
  if (::close(fd) != 0) {
    const int error_number = errno;
    if (linked_as_target) ::unlink(target_.c_str());  // there was no previous file
    fail_writing(target_, error_number);
  }
  if (!temp_.empty()) {
    if (::rename(temp_.c_str(), target_.c_str()) != 0) fail_writing(target_, errno);
    temp_.clear();
  }
  sync_directory(directory_of(target_));
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!temp_.empty()) ::unlink(temp_.c_str());
}

}  // namespace moeplan
