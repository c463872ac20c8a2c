// One writer per campaign database: an exclusive flock(2) on DB.lock, held for the life of the
// object. The kernel drops a flock when its holder dies, however it dies, so a lock left by a
// SIGKILLed campaign never blocks --resume; the file only records who holds it (pid, host, start
// time) for the refusal message. A clean release removes the file. Shards write separate
// databases and MPI ranks other than 0 never open one, so neither contends (docs/campaigns.md).
#pragma once

#include <string>

namespace axsa::faults {

class campaign_lock {
 public:
  // Holds nothing.
  campaign_lock() = default;
  // Takes the lock of db_path at once or throws config_error naming the database and the pid,
  // host and start time of the process that holds it. Where the lock file cannot be made (no such
  // folder, a folder the process may not write in) or the file system has no locks, returns a
  // lock that holds nothing: opening the database then reports the folder's problem itself.
  static campaign_lock acquire(const std::string& db_path);

  campaign_lock(campaign_lock&& other) noexcept;
  campaign_lock& operator=(campaign_lock&& other) noexcept;
  campaign_lock(const campaign_lock&) = delete;
  campaign_lock& operator=(const campaign_lock&) = delete;
  ~campaign_lock();

  bool held() const { return m_fd >= 0; }
  static std::string lock_path(const std::string& db_path) { return db_path + ".lock"; }

 private:
  void release() noexcept;

  int m_fd = -1;
  std::string m_path;  // the lock file
};

}  // namespace axsa::faults
