// Topic settings: names, parsing, and how overrides combine with defaults.
#include "broker/topic_config.h"

#include <charconv>
#include <functional>

namespace mq::broker {
namespace {

struct TopicSetting {
  const char* name;
  // Parses and applies `value`; returns an error saying what is allowed.
  std::function<Status(EffectiveTopicConfig&, const std::string&)> apply;
  std::function<std::string(const EffectiveTopicConfig&)> get;
};

Status bad_setting(const std::string& key, const std::string& what) {
  return Status(ErrorCode::kInvalidConfig, key + ": " + what);
}

Result<int64_t> parse_int(const std::string& key, const std::string& value, int64_t min,
                          int64_t max) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (ec != std::errc() || end != value.data() + value.size()) {
    return bad_setting(key, "'" + value + "' is not an integer");
  }
  if (v < min || v > max) {
    return bad_setting(key,
                       "must be between " + std::to_string(min) + " and " + std::to_string(max));
  }
  return v;
}

template <typename Field>
TopicSetting integer(const char* name, int64_t min, int64_t max, Field field) {
  return {name,
          [name, min, max, field](EffectiveTopicConfig& c, const std::string& value) -> Status {
            Result<int64_t> v = parse_int(name, value, min, max);
            if (!v.is_ok()) return v.status();
            using T = std::remove_reference_t<decltype(field(c))>;
            field(c) = static_cast<T>(*v);
            return Status::ok();
          },
          [field](const EffectiveTopicConfig& c) {
            EffectiveTopicConfig copy = c;
            return std::to_string(field(copy));
          }};
}

const std::vector<TopicSetting>& topic_settings() {
  static const std::vector<TopicSetting> table = {
      {"cleanup.policy",
       [](EffectiveTopicConfig& c, const std::string& v) {
         Result<CleanupPolicy> p = parse_cleanup_policy(v);
         if (!p.is_ok()) return bad_setting("cleanup.policy", p.status().message());
         c.log.cleanup_policy = *p;
         return Status::ok();
       },
       [](const EffectiveTopicConfig& c) {
         return std::string(cleanup_policy_name(c.log.cleanup_policy));
       }},
      integer("delete.retention.ms", 0, INT64_MAX,
              [](EffectiveTopicConfig& c) -> int64_t& { return c.log.delete_retention_ms; }),
      integer("min.compaction.lag.ms", 0, INT64_MAX,
              [](EffectiveTopicConfig& c) -> int64_t& { return c.log.min_compaction_lag_ms; }),
      {"min.cleanable.dirty.ratio",
       [](EffectiveTopicConfig& c, const std::string& v) {
         double ratio = -1;
         auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), ratio);
         if (ec != std::errc() || end != v.data() + v.size() || !(ratio >= 0 && ratio <= 1)) {
           return bad_setting("min.cleanable.dirty.ratio",
                              "must be a number between 0 and 1, got '" + v + "'");
         }
         c.log.min_cleanable_dirty_ratio = ratio;
         return Status::ok();
       },
       [](const EffectiveTopicConfig& c) {
         char text[32];
         auto [end, ec] = std::to_chars(text, text + sizeof(text), c.log.min_cleanable_dirty_ratio);
         return ec == std::errc() ? std::string(text, end) : std::string("?");
       }},
      integer("dedup.window.ms", 0, INT64_MAX,
              [](EffectiveTopicConfig& c) -> int64_t& { return c.log.dedup_window_ms; }),
      integer("retention.ms", -1, INT64_MAX,
              [](EffectiveTopicConfig& c) -> int64_t& { return c.log.retention_ms; }),
      integer("retention.bytes", -1, INT64_MAX,
              [](EffectiveTopicConfig& c) -> int64_t& { return c.log.retention_bytes; }),
      integer("segment.bytes", 1024, 2147483647,
              [](EffectiveTopicConfig& c) -> uint64_t& { return c.log.segment_bytes; }),
      integer("segment.ms", 1, INT64_MAX,
              [](EffectiveTopicConfig& c) -> int64_t& { return c.log.segment_ms; }),
      integer("max.message.bytes", 64, kMaxBatchBytes,
              [](EffectiveTopicConfig& c) -> int32_t& { return c.log.max_batch_bytes; }),
      integer("min.insync.replicas", 1, 16,
              [](EffectiveTopicConfig& c) -> int32_t& { return c.min_insync_replicas; }),
      integer("flush.ms", 1, INT64_MAX,
              [](EffectiveTopicConfig& c) -> int64_t& { return c.log.flush_interval_ms; }),
      {"fsync",
       [](EffectiveTopicConfig& c, const std::string& v) {
         Result<FsyncPolicy> p = parse_fsync_policy(v);
         if (!p.is_ok()) return bad_setting("fsync", p.status().message());
         c.log.fsync_policy = *p;
         return Status::ok();
       },
       [](const EffectiveTopicConfig& c) {
         return std::string(fsync_policy_name(c.log.fsync_policy));
       }},
      integer("queue.max.deliveries", 1, 1000,
              [](EffectiveTopicConfig& c) -> int32_t& { return c.queue_max_deliveries; }),
      {"queue.retry.backoff.ms",
       [](EffectiveTopicConfig& c, const std::string& v) -> Status {
         Result<std::vector<int64_t>> list = parse_backoff_list("queue.retry.backoff.ms", v);
         if (!list.is_ok()) return list.status();
         c.queue_retry_backoff_ms = std::move(list).value();
         return Status::ok();
       },
       [](const EffectiveTopicConfig& c) {
         std::string out;
         for (int64_t ms : c.queue_retry_backoff_ms) {
           out += (out.empty() ? "" : ",") + std::to_string(ms);
         }
         return out;
       }},
      {"unclean.leader.election.enable",
       [](EffectiveTopicConfig& c, const std::string& v) {
         if (v != "true" && v != "false") {
           return bad_setting("unclean.leader.election.enable",
                              "must be true or false, got '" + v + "'");
         }
         c.unclean_leader_election = v == "true";
         return Status::ok();
       },
       [](const EffectiveTopicConfig& c) {
         return std::string(c.unclean_leader_election ? "true" : "false");
       }},
      {"message.timestamp.type",
       [](EffectiveTopicConfig& c, const std::string& v) {
         if (v == "CreateTime") {
           c.log.timestamp_type = TimestampType::kCreateTime;
         } else if (v == "LogAppendTime") {
           c.log.timestamp_type = TimestampType::kLogAppendTime;
         } else {
           return bad_setting("message.timestamp.type",
                              "must be CreateTime or LogAppendTime, got '" + v + "'");
         }
         return Status::ok();
       },
       [](const EffectiveTopicConfig& c) {
         return std::string(c.log.timestamp_type == TimestampType::kCreateTime ? "CreateTime"
                                                                               : "LogAppendTime");
       }},
  };
  return table;
}

const TopicSetting* find_setting(const std::string& key) {
  for (const auto& s : topic_settings()) {
    if (key == s.name) return &s;
  }
  return nullptr;
}

}  // namespace

Result<std::vector<int64_t>> parse_backoff_list(const std::string& key, const std::string& value) {
  std::vector<int64_t> out;
  size_t start = 0;
  while (start <= value.size()) {
    size_t comma = value.find(',', start);
    if (comma == std::string::npos) comma = value.size();
    std::string figure = value.substr(start, comma - start);
    Result<int64_t> ms = parse_int(key, figure, 0, 86400000);
    if (!ms.is_ok()) {
      return bad_setting(key, "'" + value +
                                  "' is not a comma-separated list of milliseconds "
                                  "(each 0..86400000)");
    }
    out.push_back(*ms);
    start = comma + 1;
  }
  if (out.size() > 64) return bad_setting(key, "at most 64 figures");
  return out;
}

Status validate_topic_config(const std::string& key, const std::string& value) {
  const TopicSetting* s = find_setting(key);
  if (s == nullptr) {
    std::string known;
    for (const auto& t : topic_settings()) known += std::string(known.empty() ? "" : ", ") + t.name;
    return bad_setting(key, "unknown topic setting (known: " + known + ")");
  }
  EffectiveTopicConfig scratch;
  MQ_RETURN_IF_ERROR(s->apply(scratch, value));
  return scratch.log.validate();
}

EffectiveTopicConfig effective_topic_config(const BrokerConfig& defaults,
                                            const TopicOverrides& overrides) {
  EffectiveTopicConfig c;
  c.log = defaults.log;
  c.min_insync_replicas = defaults.min_insync_replicas;
  c.unclean_leader_election = defaults.cluster.unclean_leader_election;
  for (const auto& [key, value] : overrides) {
    // Overrides were validated when they were set.
    if (const TopicSetting* s = find_setting(key)) (void)s->apply(c, value);
  }
  return c;
}

std::vector<DescribedConfig> describe_topic_config(const BrokerConfig& defaults,
                                                   const TopicOverrides& overrides) {
  EffectiveTopicConfig c = effective_topic_config(defaults, overrides);
  std::vector<DescribedConfig> out;
  for (const auto& s : topic_settings()) {
    out.push_back({s.name, s.get(c), overrides.find(s.name) == overrides.end()});
  }
  return out;
}

Status validate_topic_name(const std::string& name) {
  if (name.empty() || name.size() > 249) {
    return Status(ErrorCode::kInvalidTopic, "topic name must be 1 to 249 characters");
  }
  if (name == "." || name == "..") {
    return Status(ErrorCode::kInvalidTopic, "topic name cannot be '.' or '..'");
  }
  for (char ch : name) {
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '.' || ch == '_' || ch == '-';
    if (!ok) {
      return Status(ErrorCode::kInvalidTopic,
                    "topic name '" + name + "' may contain only letters, digits, '.', '_' and '-'");
    }
  }
  return Status::ok();
}

}  // namespace mq::broker
