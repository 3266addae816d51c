// DescribeLogDirs: this broker's data directory, its file system's space
// (from the disk monitor) and every partition replica it holds, or those
// asked for (kafka-log-dirs; mqctl log dirs asks every broker).
#include <algorithm>
#include <filesystem>
#include <utility>

#include "broker/config.h"
#include "broker/disk_monitor.h"
#include "broker/handlers/handlers.h"
#include "broker/partition.h"
#include "broker/replica_manager.h"
#include "transport/log_dirs.h"

namespace mq::broker::handlers {

using namespace mq::transport;

namespace {

bool wanted(const DescribeLogDirsRequest& request, const Partition& p) {
  if (request.topics.empty()) return true;
  auto topic = std::ranges::find(request.topics, p.topic(), &DescribeLogDirsRequest::Topic::name);
  if (topic == request.topics.end()) return false;
  return topic->partitions.empty() ||
         std::ranges::find(topic->partitions, p.index()) != topic->partitions.end();
}

DescribeLogDirsResponse describe(Context& ctx, const DescribeLogDirsRequest& request) {
  DescribeLogDirsResponse response;
  auto& dir = response.log_dirs.emplace_back();
  std::error_code ec;
  std::filesystem::path path = std::filesystem::absolute(ctx.replicas.config().data_dir, ec);
  dir.log_dir = ec ? ctx.replicas.config().data_dir : path.lexically_normal().string();
  if (ctx.disk != nullptr) {
    dir.total_bytes = ctx.disk->total_bytes();
    dir.usable_bytes = ctx.disk->free_bytes();
  }
  std::vector<std::shared_ptr<Partition>> partitions = ctx.replicas.partitions();
  std::ranges::sort(partitions, [](const auto& a, const auto& b) {
    return std::pair(a->topic(), a->index()) < std::pair(b->topic(), b->index());
  });
  for (const auto& p : partitions) {
    if (!wanted(request, *p)) continue;
    const Log& log = p->log();
    if (log.failed()) dir.error_code = ErrorCode::kStorageError;
    if (dir.topics.empty() || dir.topics.back().name != p->topic()) {
      dir.topics.emplace_back().name = p->topic();
    }
    dir.topics.back().partitions.push_back({
        .partition_index = p->index(),
        .size_bytes = static_cast<int64_t>(log.size_bytes()),
        .segments = static_cast<int32_t>(log.segment_count()),
        .log_start_offset = log.log_start_offset(),
        .log_end_offset = log.log_end_offset(),
        .high_watermark = p->high_watermark(),
        .leader = p->is_leader(),
    });
  }
  return response;
}

}  // namespace

void describe_log_dirs(Call call) {
  serve<DescribeLogDirsRequest>(call, describe);
}

}  // namespace mq::broker::handlers
