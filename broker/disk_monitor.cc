// DiskMonitor: statvfs of the data directory, and the full/not-full rule.
#include "broker/disk_monitor.h"

#include <spdlog/spdlog.h>
#include <sys/statvfs.h>

#include <algorithm>

namespace mq::broker {

DiskMonitor::DiskMonitor(std::string dir, int64_t min_free_bytes, int64_t resume_free_bytes)
    : dir_(std::move(dir)),
      min_free_bytes_(min_free_bytes),
      resume_free_bytes_(resume_free_bytes) {}

void DiskMonitor::poll() {
  std::lock_guard lock(mu_);
  read_filesystem();
  update();
}

void DiskMonitor::note_enospc() {
  std::lock_guard lock(mu_);
  // A fresh reading: the last poll may predate whatever filled the disk.
  read_filesystem();
  enospc_.store(true);
  update();
}

void DiskMonitor::read_filesystem() {
  struct statvfs st {};
  if (::statvfs(dir_.c_str(), &st) != 0) return;  // keep the last reading
  // f_bavail: what an unprivileged writer may use, the figure ENOSPC follows.
  free_bytes_.store(static_cast<int64_t>(st.f_bavail) * static_cast<int64_t>(st.f_frsize));
  total_bytes_.store(static_cast<int64_t>(st.f_blocks) * static_cast<int64_t>(st.f_frsize));
}

void DiskMonitor::update() {
  int64_t free = free_bytes_.load();
  int64_t min_free = min_free_bytes_.load();
  if (enospc_.load() && free >= std::max(min_free, resume_free_bytes_)) enospc_.store(false);
  bool full = enospc_.load() || (free >= 0 && free < min_free);
  bool was = full_.exchange(full, std::memory_order_acq_rel);
  if (full && !was) {
    spdlog::error("{}; produce is refused until space returns (fetches continue)", why());
  } else if (!full && was) {
    spdlog::info("data directory {} has {} bytes free again: produce resumes", dir_, free);
  }
}

std::string DiskMonitor::why() const {
  return "data directory " + dir_ + " is full: " + std::to_string(free_bytes_.load()) +
         " bytes free (storage.min_free_bytes = " + std::to_string(min_free_bytes_.load()) + ")";
}

}  // namespace mq::broker
