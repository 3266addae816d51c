// What `topic describe` prints for a topic: every partition the metadata
// lists, whether or not it has a leader, with the offsets that could be read
// (null where they could not), and the topic's configs (null when they could
// not be read). Built here without I/O so the output is unit-tested
// (tests/ctl/topic_description_test.cc).
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "client/admin.h"
#include "client/metadata.h"

namespace mq::ctl {

using PartitionOffsets = std::map<client::TopicPartition, Result<client::ListedOffset>>;

// {"name", "internal", "partitions": [{"partition", "leader", "leader_epoch",
// "replicas", "isr", "offline_replicas", "log_start_offset",
// "high_watermark"}], "configs"}. `leader` is null for a partition without
// one; an offset is null when `starts`/`ends` has no value for its partition;
// `configs` is null when `configs` is nullopt.
nlohmann::ordered_json topic_description_json(
    const client::TopicInfo& topic, const PartitionOffsets& starts, const PartitionOffsets& ends,
    const std::optional<std::vector<client::ConfigEntry>>& configs);

// What could not be read for `topic`, for one line on stderr: "offsets of 1
// of 3 partitions could not be read: rf1-0 has no leader (LEADER_NOT_AVAILABLE)";
// empty when everything was read.
std::string unread_offsets_summary(const client::TopicInfo& topic, const PartitionOffsets& starts,
                                   const PartitionOffsets& ends);

// The table of several topic descriptions: a summary, the partitions (LEADER
// "none" without one, "-" for an offset not read), then the configs.
std::string topic_descriptions_table(const nlohmann::ordered_json& topics);

}  // namespace mq::ctl
