// OffsetsStorage: __consumer_offsets through the replica manager.
#include "broker/offsets_storage.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "store/coding.h"

namespace mq::broker {

using group::kOffsetsTopic;
using SteadyClock = std::chrono::steady_clock;

OffsetsStorage::~OffsetsStorage() {
  stop_creating();
}

TopicOverrides OffsetsStorage::topic_overrides() {
  // Latest commit per key is all that matters: compacted, smallish segments
  // so the cleaner can work on them.
  return TopicOverrides{{"cleanup.policy", "compact"},
                        {"segment.bytes", std::to_string(100 * 1024 * 1024)}};
}

void OffsetsStorage::start_creating(ClusterNode& cluster, const BrokerConfig& config,
                                    int32_t partitions,
                                    std::function<void(const std::string&)> on_fatal,
                                    int64_t grace_ms) {
  int32_t size =
      static_cast<int32_t>(config.cluster.voters.size() + config.cluster.observers.size());
  int32_t wanted = std::min(3, std::max(1, size));
  creator_ =
      std::thread([this, &cluster, wanted, partitions, grace_ms, on_fatal = std::move(on_fatal)] {
        create_loop(cluster, wanted, partitions, on_fatal, grace_ms);
      });
}

void OffsetsStorage::stop_creating() {
  {
    std::lock_guard lock(creator_mu_);
    creator_stop_ = true;
  }
  creator_cv_.notify_all();
  if (creator_.joinable()) creator_.join();
}

void OffsetsStorage::create_loop(ClusterNode& cluster, int32_t wanted_brokers, int32_t partitions,
                                 const std::function<void(const std::string&)>& on_fatal,
                                 int64_t grace_ms) {
  const std::string name(kOffsetsTopic);
  const auto grace_end = SteadyClock::now() + std::chrono::milliseconds(grace_ms);
  std::unique_lock lock(creator_mu_);
  while (!creator_stop_) {
    lock.unlock();
    std::chrono::milliseconds pause(100);
    bool done = false;
    if (cluster.member().broker_epoch() != 0 && !cluster.member().fenced()) {
      std::shared_ptr<const metadata::MetadataImage> image = cluster.member().image();
      const metadata::TopicState* topic = image->topic(name);
      int32_t registered = static_cast<int32_t>(image->brokers().size());
      if (topic != nullptr) {
        int32_t have = static_cast<int32_t>(topic->partitions.size());
        if (have != partitions && on_fatal) {
          on_fatal("group.offsets_topic_partitions is " + std::to_string(partitions) + " but " +
                   name + " has " + std::to_string(have) +
                   " partitions: groups hash to partitions by that setting and would lose their "
                   "committed offsets; set it back to " +
                   std::to_string(have));
        }
        done = true;
      } else if (registered >= wanted_brokers || SteadyClock::now() >= grace_end) {
        int32_t replication = std::min(3, registered);
        Status created =
            cluster.create_topic(name, partitions, replication, topic_overrides(), {}, false);
        if (created.is_ok() || created.code() == ErrorCode::kTopicAlreadyExists) {
          if (created.is_ok()) {
            spdlog::info("created {} ({} partitions, replication factor {})", name, partitions,
                         replication);
          }
          done = true;
        } else {
          spdlog::warn("creating {}: {} (retrying)", name, created.to_string());
          pause = std::chrono::milliseconds(1000);
        }
      }
    }
    lock.lock();
    if (done) break;
    creator_cv_.wait_for(lock, pause);
  }
}

std::shared_ptr<Partition> OffsetsStorage::led(int32_t partition) const {
  std::shared_ptr<Partition> p = replicas_.partition(std::string(kOffsetsTopic), partition);
  if (!p || !p->is_leader()) return nullptr;
  return p;
}

namespace {

Status not_coordinator(int32_t partition) {
  return Status(ErrorCode::kNotCoordinator,
                std::string(kOffsetsTopic) + "-" + std::to_string(partition) + " is not led here");
}

}  // namespace

Status OffsetsStorage::append(int32_t partition, std::string batch, Durability durability) {
  std::shared_ptr<Partition> p = led(partition);
  if (!p) return not_coordinator(partition);
  const bool replicated = durability == Durability::kReplicated;
  int32_t epoch = 0;
  Result<AppendResult> appended =
      p->append_as_leader(as_writable_bytes(batch), replicated ? -1 : 1, &epoch);
  if (!appended.is_ok()) {
    if (appended.code() == ErrorCode::kNotLeader ||
        appended.code() == ErrorCode::kLeaderNotAvailable) {
      return not_coordinator(partition);
    }
    return appended.status();
  }
  if (!replicated) return Status::ok();
  // Wait (bounded) for the high watermark to pass the batch, as acks=all does.
  struct Wake {
    std::mutex mu;
    std::condition_variable cv;
    bool woken = false;
  };
  const int64_t last = appended->last_offset;
  const auto deadline = SteadyClock::now() + std::chrono::milliseconds(commit_timeout_ms_);
  while (true) {
    std::optional<ErrorCode> outcome = p->acks_all_outcome(last, epoch);
    if (outcome) {
      if (*outcome == ErrorCode::kNone) return Status::ok();
      if (*outcome == ErrorCode::kNotLeader) return not_coordinator(partition);
      return Status(*outcome, std::string(kOffsetsTopic) + "-" + std::to_string(partition) +
                                  ": the commit was not replicated");
    }
    if (SteadyClock::now() >= deadline) {
      return Status(ErrorCode::kRequestTimedOut,
                    std::string(kOffsetsTopic) + "-" + std::to_string(partition) +
                        ": not replicated within " + std::to_string(commit_timeout_ms_) + " ms");
    }
    auto wake = std::make_shared<Wake>();
    uint64_t ticket = p->on_data_after(
        last,
        [wake] {
          std::lock_guard lock(wake->mu);
          wake->woken = true;
          wake->cv.notify_all();
        },
        WaitBound::kHighWatermark);
    if (ticket != 0) {
      std::unique_lock lock(wake->mu);
      wake->cv.wait_until(lock, deadline, [&] { return wake->woken; });
      lock.unlock();
      p->cancel_wait(ticket);
    }
  }
}

Status OffsetsStorage::wait_committed(int32_t partition, const std::function<bool()>& cancelled) {
  std::shared_ptr<Partition> p = led(partition);
  if (!p) return not_coordinator(partition);
  const int64_t target = p->log().log_end_offset();
  auto next_note = SteadyClock::now() + std::chrono::seconds(5);
  while (p->high_watermark() < target) {
    if (!p->is_leader()) return not_coordinator(partition);
    if (cancelled()) {
      return Status(ErrorCode::kCoordinatorNotAvailable, "the load was abandoned");
    }
    if (SteadyClock::now() >= next_note) {
      spdlog::info("{}-{}: waiting for the high watermark ({}) to reach {} before loading groups",
                   kOffsetsTopic, partition, p->high_watermark(), target);
      next_note = SteadyClock::now() + std::chrono::seconds(5);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return Status::ok();
}

Status OffsetsStorage::replay(int32_t partition, const std::function<Status(const Record&)>& each) {
  std::shared_ptr<Partition> p = replicas_.partition(std::string(kOffsetsTopic), partition);
  if (!p) return Status::ok();
  RecordBatchReader reader;
  std::vector<Record> records;
  int64_t offset = p->log().log_start_offset();
  const int64_t end = p->high_watermark();
  while (offset < end) {
    MQ_ASSIGN_OR_RETURN(LogReadResult read, p->log().read(offset, 1 << 20, end));
    if (read.bytes.empty()) break;
    BatchCursor cursor(as_bytes(read.bytes));
    for (auto batch = cursor.next(); !batch.empty(); batch = cursor.next()) {
      MQ_RETURN_IF_ERROR(reader.decode(batch, &records));
      for (const Record& r : records) {
        if (r.offset >= offset && r.offset < end) MQ_RETURN_IF_ERROR(each(r));
      }
    }
    if (read.next_offset <= offset) break;
    offset = read.next_offset;
  }
  return Status::ok();
}

std::optional<int32_t> OffsetsStorage::partition_count(const std::string& topic) const {
  std::optional<TopicInfo> info = replicas_.topic(topic);
  if (!info) return std::nullopt;
  return info->partitions;
}

int64_t OffsetsStorage::high_watermark(const std::string& topic, int32_t partition) const {
  std::shared_ptr<Partition> p = replicas_.partition(topic, partition);
  return p ? p->high_watermark() : -1;
}

}  // namespace mq::broker
