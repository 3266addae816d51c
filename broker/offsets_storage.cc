// OffsetsStorage: __consumer_offsets through the replica manager.
#include "broker/offsets_storage.h"

#include "store/coding.h"

namespace mq::broker {

using group::kOffsetsTopic;

Status OffsetsStorage::ensure_topic(int32_t partitions) {
  std::string name(kOffsetsTopic);
  if (std::optional<TopicInfo> topic = replicas_.topic(name)) {
    if (topic->partitions != partitions) {
      return Status(ErrorCode::kInvalidConfig,
                    "group.offsets_topic_partitions is " + std::to_string(partitions) + " but " +
                        name + " has " + std::to_string(topic->partitions) +
                        " partitions; groups would lose their committed offsets. Set it back to " +
                        std::to_string(topic->partitions));
    }
    return Status::ok();
  }
  // Latest commit per key is all that matters: compacted, smallish segments
  // so the cleaner can work on them.
  TopicOverrides overrides{{"cleanup.policy", "compact"},
                           {"segment.bytes", std::to_string(100 * 1024 * 1024)}};
  return replicas_.create_topic(name, partitions, 1, overrides, false);
}

Status OffsetsStorage::append(int32_t partition, std::string batch) {
  std::shared_ptr<Partition> p = replicas_.partition(std::string(kOffsetsTopic), partition);
  if (!p) {
    return Status(ErrorCode::kNotCoordinator,
                  std::string(kOffsetsTopic) + "-" + std::to_string(partition) + " is not here");
  }
  Result<AppendResult> appended = p->append_as_leader(as_writable_bytes(batch), /*acks=*/-1);
  return appended.status();
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
        if (r.offset >= offset) MQ_RETURN_IF_ERROR(each(r));
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
