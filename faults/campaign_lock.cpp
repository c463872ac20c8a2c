#include "faults/campaign_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <sstream>

#include "hw/array_config.h"

namespace axsa::faults {

namespace {

std::string host_name() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0) return "?";
  return name;
}

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

// The holder's line, "pid P host H since T"; empty if it has not written it yet.
std::string read_holder(int fd) {
  char buf[512] = {};
  const ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return {};
  std::string line(buf, static_cast<std::size_t>(n));
  const auto nl = line.find('\n');
  return nl == std::string::npos ? line : line.substr(0, nl);
}

std::string refusal(const std::string& db_path, const std::string& holder) {
  std::istringstream in(holder);
  std::string k1, pid, k2, host, k3, since;
  const std::string who = (in >> k1 >> pid >> k2 >> host >> k3 >> since) && k1 == "pid" && k2 == "host"
                              ? "process " + pid + " on " + host + " (since " + since + ")"
                              : "another process (it has not recorded its pid yet)";
  return db_path + " is being written by " + who + "; one campaign per database at a time";
}

}  // namespace

campaign_lock campaign_lock::acquire(const std::string& db_path) {
  const std::string path = lock_path(db_path);
  // A releasing holder removes the file while it still holds it, so the file we lock may have
  // just been unlinked: then the lock is worthless (the next process makes a new file), retry.
  for (int attempt = 0; attempt < 100; ++attempt) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) return {};
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      const std::string holder = err == EWOULDBLOCK ? read_holder(fd) : std::string();
      ::close(fd);
      if (err == EWOULDBLOCK) throw config_error(refusal(db_path, holder));
      return {};  // no locks on this file system
    }
    struct stat locked {}, named {};
    if (fstat(fd, &locked) != 0 || stat(path.c_str(), &named) != 0 || locked.st_ino != named.st_ino ||
        locked.st_dev != named.st_dev) {
      ::close(fd);
      continue;
    }
    const std::string line = "pid " + std::to_string(getpid()) + " host " + host_name() + " since " + utc_now() + "\n";
    // Should this fail, the lock holds regardless; only a rival's refusal message lacks the pid.
    const bool recorded = ftruncate(fd, 0) == 0 && pwrite(fd, line.data(), line.size(), 0) == static_cast<ssize_t>(line.size());
    (void)recorded;
    campaign_lock lock;
    lock.m_fd = fd;
    lock.m_path = path;
    return lock;
  }
  throw config_error("cannot lock " + path + ": it keeps being replaced by other processes");
}

campaign_lock::campaign_lock(campaign_lock&& other) noexcept : m_fd(other.m_fd), m_path(std::move(other.m_path)) {
  other.m_fd = -1;
}

campaign_lock& campaign_lock::operator=(campaign_lock&& other) noexcept {
  if (this != &other) {
    release();
    m_fd = other.m_fd;
    m_path = std::move(other.m_path);
    other.m_fd = -1;
  }
  return *this;
}

campaign_lock::~campaign_lock() { release(); }

void campaign_lock::release() noexcept {
  if (m_fd < 0) return;
  // Removed while still held, so no process can lock this file after we let go (see acquire).
  ::unlink(m_path.c_str());
  ::close(m_fd);
  m_fd = -1;
}

}  // namespace axsa::faults
