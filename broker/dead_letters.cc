// DeadLetters: copies to the dead-letter topic, then the dead op; see dead_letters.h.
#include "broker/dead_letters.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <future>
#include <map>
#include <utility>
#include <vector>

#include "client/admin.h"
#include "client/producer.h"
#include "store/record_batch.h"

namespace mq::broker {
namespace {

using transport::dead_letter_topic;

// How often the loop looks for letters to move, and how long a partition
// whose move failed (other than by losing its leadership) waits.
constexpr auto kPassInterval = std::chrono::milliseconds(200);
constexpr int64_t kFailedWaitMs = 5000;

int64_t mover_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// FNV-1a, 64 bits: names a (group, topic) pair in a letter's message id,
// which must fit 255 bytes whatever the two are.
uint64_t fnv1a(std::string_view a, std::string_view b) {
  uint64_t h = 14695981039346656037ull;
  auto mix = [&h](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ull;
    }
  };
  mix(a);
  mix(std::string_view("\0", 1));
  mix(b);
  return h;
}

// The same letter gets the same id on every leader: its group, where it
// came from, and when its last delivery began (replicated state).
std::string letter_id(const Partition& p, const QueueService::DeadLetter& letter) {
  char hash[17];
  std::snprintf(hash, sizeof hash, "%016llx",
                static_cast<unsigned long long>(fnv1a(letter.group, p.topic())));
  return "dlq-" + std::string(hash) + "-" + std::to_string(p.index()) + "-" +
         std::to_string(letter.offset) + "-" + std::to_string(letter.entry.delivered_at);
}

// Headers of the original kept on its copy: not the ones that would make
// the copy scheduled, a delivered copy or a duplicate of the original.
bool kept_header(std::string_view key) {
  return key != kMessageIdHeader && key != kDeliverAtHeader && key != kDelayedFromHeader &&
         key != kDelayedCancelHeader;
}

}  // namespace

DeadLetters::DeadLetters(ReplicaManager& replicas, QueueService& queue, std::string bootstrap,
                         client::CurveSettings curve)
    : replicas_(replicas),
      queue_(queue),
      bootstrap_(std::move(bootstrap)),
      curve_(std::move(curve)) {}

DeadLetters::~DeadLetters() {
  stop();
}

void DeadLetters::start() {
  thread_ = std::thread([this] { run(); });
}

void DeadLetters::stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (producer_) (void)producer_->close(0);
  producer_.reset();
  admin_.reset();
}

void DeadLetters::run() {
  std::map<std::pair<std::string, int32_t>, int64_t> failed;  // partition -> try again at
  std::unique_lock lock(mu_);
  while (!stop_) {
    lock.unlock();
    for (const std::shared_ptr<Partition>& p : replicas_.partitions()) {
      if (!p->is_leader()) continue;
      auto key = std::make_pair(p->topic(), p->index());
      if (auto it = failed.find(key); it != failed.end()) {
        if (it->second > mover_clock_ms()) continue;
        failed.erase(it);
      }
      Result<size_t> moved = move(*p);
      if (!moved.is_ok() && moved.code() != ErrorCode::kNotLeader &&
          moved.code() != ErrorCode::kLeaderNotAvailable) {
        spdlog::warn("{}-{}: moving dead letters: {} (trying again in {} s)", p->topic(),
                     p->index(), moved.status().to_string(), kFailedWaitMs / 1000);
        failed[key] = mover_clock_ms() + kFailedWaitMs;
      }
      std::lock_guard stopping(mu_);
      if (stop_) break;
    }
    lock.lock();
    cv_.wait_for(lock, kPassInterval, [this] { return stop_; });
  }
}

Status DeadLetters::ensure_clients() {
  if (producer_ && admin_) return Status::ok();
  client::ProducerConfig producer;
  producer.bootstrap_servers = bootstrap_;
  producer.client_id = "mqd-dead-letters";
  producer.acks = -1;
  producer.linger_ms = 0;
  producer.request_timeout_ms = 5000;
  producer.delivery_timeout_ms = 15000;
  producer.max_block_ms = 5000;
  producer.curve = curve_;
  // As large as the producer's memory allows: a letter is as large as its message.
  producer.max_request_size_bytes = producer.buffer_memory_bytes;
  client::AdminConfig admin;
  admin.bootstrap_servers = bootstrap_;
  admin.client_id = "mqd-dead-letters";
  admin.request_timeout_ms = 5000;
  admin.default_api_timeout_ms = 10000;
  admin.curve = curve_;
  MQ_ASSIGN_OR_RETURN(producer_, client::Producer::create(producer));
  MQ_ASSIGN_OR_RETURN(admin_, client::Admin::create(admin));
  return Status::ok();
}

Status DeadLetters::ensure_topic(const std::string& topic) {
  if (topics_known_.contains(topic)) return Status::ok();
  if (replicas_.topic(topic)) {
    topics_known_.insert(topic);
    return Status::ok();
  }
  // One partition (a group's letters in the order they died), the cluster's
  // default replication factor.
  client::NewTopic spec{.name = topic,
                        .num_partitions = 1,
                        .configs = {{"dedup.window.ms", std::to_string(kDedupWindowMs)}}};
  MQ_ASSIGN_OR_RETURN(std::vector<client::ItemResult> created, admin_->create_topics({spec}));
  for (const client::ItemResult& r : created) {
    if (!r.status.is_ok() && r.status.code() != ErrorCode::kTopicAlreadyExists) {
      return Status(r.status.code(),
                    "creating dead-letter topic " + topic + ": " + r.status.message());
    }
    if (r.status.is_ok()) spdlog::info("created dead-letter topic {}", topic);
  }
  topics_known_.insert(topic);
  return Status::ok();
}

Result<size_t> DeadLetters::move(Partition& partition) {
  MQ_ASSIGN_OR_RETURN(std::vector<QueueService::DeadLetter> letters,
                      queue_.dead_letters(partition, kMaxPerPass));
  if (letters.empty()) return size_t{0};
  MQ_RETURN_IF_ERROR(ensure_clients());
  // Copies first; only letters whose copy is acknowledged are marked dead.
  std::vector<QueueService::DeadLetter> done;
  std::vector<std::pair<size_t, std::future<Result<client::RecordMetadata>>>> sent;
  Status first_error = Status::ok();
  std::set<std::string> unavailable;  // dead-letter topics that could not be made this pass
  for (size_t i = 0; i < letters.size(); ++i) {
    const QueueService::DeadLetter& letter = letters[i];
    if (!letter.message) {
      done.push_back(letter);  // unreadable: expired
      continue;
    }
    const std::string topic = dead_letter_topic(letter.group);
    if (unavailable.contains(topic)) continue;
    if (Status ready = ensure_topic(topic); !ready.is_ok()) {
      unavailable.insert(topic);
      if (first_error.is_ok()) first_error = ready;
      continue;
    }
    client::ProducerRecord record{
        .topic = topic, .key = letter.message->key, .value = letter.message->value};
    for (const auto& [key, value] : letter.message->headers) {
      if (kept_header(key)) record.headers.push_back({key, value});
    }
    record.headers.push_back({std::string(transport::kDlqGroupHeader), letter.group});
    record.headers.push_back({std::string(transport::kDlqTopicHeader), partition.topic()});
    record.headers.push_back(
        {std::string(transport::kDlqPartitionHeader), std::to_string(partition.index())});
    record.headers.push_back(
        {std::string(transport::kDlqOffsetHeader), std::to_string(letter.offset)});
    record.headers.push_back(
        {std::string(transport::kDlqDeliveriesHeader), std::to_string(letter.entry.deliveries)});
    record.headers.push_back({std::string(transport::kDlqReasonHeader),
                              std::string(transport::kDlqReasonMaxDeliveries)});
    record.headers.push_back({std::string(kMessageIdHeader), letter_id(partition, letter)});
    sent.emplace_back(i, producer_->send(std::move(record)));
  }
  for (auto& [i, future] : sent) {
    Result<client::RecordMetadata> acked = future.get();
    const std::string topic = dead_letter_topic(letters[i].group);
    if (acked.is_ok()) {
      done.push_back(letters[i]);
      continue;
    }
    if (acked.code() == ErrorCode::kMessageTooLarge) {
      // It can never be copied: the group lets it go (it stays in its own
      // topic, at its offset), said loudly, rather than holding it forever.
      spdlog::error(
          "{}-{}: queue group {}: the message at offset {} is too large for dead-letter topic "
          "{} ({}); the group no longer holds it (it is still in {} at that offset)",
          partition.topic(), partition.index(), letters[i].group, letters[i].offset, topic,
          acked.status().message(), partition.topic());
      QueueService::DeadLetter dropped = letters[i];
      dropped.message.reset();
      done.push_back(std::move(dropped));
      continue;
    }
    if (acked.code() == ErrorCode::kUnknownTopicOrPartition) topics_known_.erase(topic);
    if (first_error.is_ok()) {
      first_error = Status(acked.code(), "producing to " + topic + ": " + acked.status().message());
    }
  }
  size_t moved = 0;
  if (!done.empty()) {
    MQ_ASSIGN_OR_RETURN(QueueService::Finished finished, queue_.finish_dead(partition, done));
    moved = finished.dead;
    if (finished.dead > 0 || finished.expired > 0) {
      spdlog::info("{}-{}: {} message(s) moved to dead-letter topics{}", partition.topic(),
                   partition.index(), finished.dead,
                   finished.expired > 0
                       ? ", " + std::to_string(finished.expired) + " unreadable one(s) dropped"
                       : std::string());
    }
  }
  if (!first_error.is_ok()) return first_error;
  return moved;
}

}  // namespace mq::broker
