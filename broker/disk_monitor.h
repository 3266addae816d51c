// Watches the free space of the data directory's filesystem. Produce is
// refused (DISK_FULL) while it is full, so the space left goes to what must
// not fail — checkpoints, the clean-shutdown marker, group commits — and
// fetches keep being served. "Full" means fewer than storage.min_free_bytes
// free, or an append hit ENOSPC and not yet `resume_free_bytes` are free
// again. /readyz, /v1/status and the mq_storage_* metrics report it.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

namespace mq::broker {

class DiskMonitor {
 public:
  // `resume_free_bytes`: after an ENOSPC, free space needed before produce resumes.
  DiskMonitor(std::string dir, int64_t min_free_bytes, int64_t resume_free_bytes);

  // Reads the filesystem's free space (statvfs) and updates full().
  void poll();
  // An append failed with ENOSPC: full until space returns.
  void note_enospc();
  void set_min_free_bytes(int64_t bytes) { min_free_bytes_.store(bytes); }
  // A produce was refused because the disk is full (for the metric).
  void note_refused() { refused_.fetch_add(1, std::memory_order_relaxed); }
  uint64_t refused() const { return refused_.load(std::memory_order_relaxed); }

  bool full() const { return full_.load(std::memory_order_acquire); }
  int64_t free_bytes() const { return free_bytes_.load(); }
  int64_t total_bytes() const { return total_bytes_.load(); }
  // Why produce is refused, for errors and /readyz.
  std::string why() const;

 private:
  void read_filesystem();  // statvfs into free_bytes_ / total_bytes_; mu_ held
  void update();           // mu_ held

  std::string dir_;
  std::atomic<int64_t> min_free_bytes_;
  const int64_t resume_free_bytes_;
  std::atomic<int64_t> free_bytes_{-1};
  std::atomic<int64_t> total_bytes_{-1};
  std::atomic<bool> enospc_{false};
  std::atomic<bool> full_{false};
  std::atomic<uint64_t> refused_{0};
  std::mutex mu_;  // serializes poll() and note_enospc()
};

}  // namespace mq::broker
