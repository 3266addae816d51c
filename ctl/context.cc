// Shared command conventions: errors, exit codes, printing, the admin client.
#include "ctl/context.h"

#include <algorithm>
#include <chrono>

#include "ctl/duration.h"

namespace mq::ctl {

int exit_code_for(const Status& status) {
  switch (status.code()) {
    case ErrorCode::kUnknownTopicOrPartition:
    case ErrorCode::kNotFound:
    case ErrorCode::kGroupIdNotFound:
      return kExitNotFound;
    default:
      return kExitFailed;
  }
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void Context::error(const std::string& message) const {
  std::fprintf(io.err, "mqctl: %s\n", message.c_str());
  std::fflush(io.err);
}

void Context::note(const std::string& message) const {
  if (verbose) error(message);
}

int Context::fail(const std::string& what, const Status& status) const {
  switch (status.code()) {
    case ErrorCode::kBrokerNotAvailable:
    case ErrorCode::kRequestTimedOut:
    case ErrorCode::kNetworkError:
      error(what + ": no answer from " + brokers + " within " + format_duration_ms(timeout_ms) +
            " (" + status.to_string() + ")");
      break;
    default:
      error(what + ": " + status.message() + " (" + std::string(error_name(status.code())) + ")");
  }
  return exit_code_for(status);
}

Status hidden_topic(const client::ClusterMetadata& metadata, const std::string& topic) {
  const client::TopicInfo* info = metadata.topic(topic);
  if (info == nullptr || info->error != ErrorCode::kTopicAuthorizationFailed) return Status::ok();
  return Status(ErrorCode::kTopicAuthorizationFailed,
                "the ACLs do not let this principal describe topic \"" + topic + "\"");
}

int Context::not_found(const std::string& kind, const std::string& name) const {
  error(kind + " \"" + name + "\" not found");
  return kExitNotFound;
}

int Context::partitions_for_producing(const std::string& topic, int32_t* partitions) const {
  auto admin = open_admin();
  if (!admin) return kExitFailed;
  Result<client::ClusterMetadata> metadata =
      admin->describe_cluster(std::vector<std::string>{topic}, /*allow_auto_create=*/true);
  if (!metadata.is_ok()) return fail("cannot produce", metadata.status());
  *partitions = metadata->partition_count(topic);
  if (*partitions > 0) return kExitOk;
  if (Status denied = hidden_topic(*metadata, topic); !denied.is_ok()) {
    return fail("cannot produce", denied);
  }
  error("topic \"" + topic + "\" not found, and the broker did not create it " +
        "(topics.auto_create = false, or the name is not a valid topic name)");
  return kExitNotFound;
}

int Context::usage(const std::string& message) const {
  error(message);
  return kExitUsage;
}

void Context::print(
    const nlohmann::ordered_json& document,
    const std::function<std::string(const nlohmann::ordered_json&)>& as_table) const {
  std::string text;
  switch (output) {
    case OutputFormat::kJson:
      text = document.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
      break;
    case OutputFormat::kYaml:
      text = to_yaml(document);
      break;
    case OutputFormat::kTable:
      text = as_table(document);
      break;
  }
  std::fwrite(text.data(), 1, text.size(), io.out);
  std::fflush(io.out);
}

client::AdminConfig Context::admin_config() const {
  client::AdminConfig config;
  config.bootstrap_servers = brokers;
  config.client_id = "mqctl";
  // --timeout is the time a question may take, retries included: a broker
  // restarting or a leader moving within it is waited out, not an error.
  config.request_timeout_ms = timeout_ms;
  config.default_api_timeout_ms = timeout_ms;
  config.curve = curve;
  apply_client_settings(config);
  return config;
}

client::ProducerConfig Context::producer_config(int acks) const {
  client::ProducerConfig config;
  config.bootstrap_servers = brokers;
  config.client_id = "mqctl";
  config.acks = acks;
  config.enable_idempotence = acks == -1;
  config.batch_size_bytes = 256 * 1024;
  // Kafka's defaults (30 s per request, 120 s per record), never less than
  // --timeout: a failover takes seconds, and the producer rides through it by
  // retrying; a send fails only when a record could not be delivered for this
  // long. --timeout bounds the metadata questions asked before sending.
  config.request_timeout_ms = std::max(30'000, timeout_ms);
  config.delivery_timeout_ms = std::max(120'000, timeout_ms + config.linger_ms);
  config.max_block_ms = std::max(60'000, timeout_ms);
  config.curve = curve;
  apply_client_settings(config);
  return config;
}

client::ConsumerConfig Context::consumer_config() const {
  client::ConsumerConfig config;
  config.bootstrap_servers = brokers;
  config.client_id = "mqctl";
  config.auto_offset_reset = client::OffsetReset::kEarliest;
  config.fetch_max_wait_ms = std::min(500, timeout_ms / 2);
  config.request_timeout_ms = std::max(timeout_ms, config.fetch_max_wait_ms + 100);
  config.default_api_timeout_ms = timeout_ms;
  config.curve = curve;
  apply_client_settings(config);
  return config;
}

std::unique_ptr<client::Admin> Context::open_admin() const {
  Result<std::unique_ptr<client::Admin>> admin = client::Admin::create(admin_config());
  if (!admin.is_ok()) {
    fail("cannot create the admin client", admin.status());
    return nullptr;
  }
  return std::move(admin).value();
}

bool Context::confirm(const std::string& question, bool assume_yes) const {
  if (assume_yes || !io.in_is_terminal) return true;
  std::fprintf(io.err, "%s [y/N] ", question.c_str());
  std::fflush(io.err);
  char answer[16] = {};
  if (std::fgets(answer, sizeof(answer), io.in) == nullptr) return false;
  return answer[0] == 'y' || answer[0] == 'Y';
}

}  // namespace mq::ctl
