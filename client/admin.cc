// The admin client: one synchronous request per call, to the controller for
// topic changes and to partition leaders for offsets. Group calls are in
// admin_groups.cc.
#include "client/admin.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <set>
#include <thread>

#include "client/clock.h"
#include "client/cluster.h"
#include "transport/list_offsets.h"
#include "transport/topic_admin.h"

namespace mq::client {
namespace {

Status item_status(ErrorCode code, const std::optional<std::string>& message) {
  if (code == ErrorCode::kNone) return Status::ok();
  return Status(code, message.value_or(std::string(error_name(code))));
}

// What a call retries: the broker or the leader it asked is away or moving.
// UNKNOWN_TOPIC_OR_PARTITION is an answer, not a transient state, unless the
// caller knows better (list_offsets: the metadata named the partition).
bool transient(ErrorCode code) {
  return is_retriable(code) && code != ErrorCode::kUnknownTopicOrPartition &&
         code != ErrorCode::kNotEnoughReplicas && code != ErrorCode::kNotEnoughReplicasAfterAppend;
}

std::vector<ConfigEntry> config_entries(const transport::DescribeConfigsResponse::Result& result) {
  std::vector<ConfigEntry> entries;
  for (const auto& config : result.configs) {
    entries.push_back(
        {config.name, config.value, config.read_only, config.config_source, config.is_sensitive});
  }
  return entries;
}

}  // namespace

Result<std::unique_ptr<Admin>> Admin::create(const AdminConfig& config) {
  MQ_RETURN_IF_ERROR(config.validate());
  MQ_ASSIGN_OR_RETURN(std::vector<std::string> bootstrap,
                      parse_bootstrap_servers(config.bootstrap_servers));
  auto cluster =
      std::make_unique<Cluster>(ClusterOptions{.bootstrap_endpoints = std::move(bootstrap),
                                               .client_id = config.client_id,
                                               .request_timeout_ms = config.request_timeout_ms,
                                               .curve = curve_client_of(config.curve)});
  return std::unique_ptr<Admin>(new Admin(std::move(cluster), config));
}

Admin::Admin(std::unique_ptr<Cluster> cluster, const AdminConfig& config)
    : cluster_(std::move(cluster)),
      request_timeout_ms_(config.request_timeout_ms),
      config_(config) {}

template <class Attempt, class Retriable>
auto Admin::retrying(Attempt&& attempt, Retriable&& retriable) -> decltype(attempt()) {
  const int64_t deadline = steady_ms() + config_.default_api_timeout_ms;
  int backoff_ms = config_.retry_backoff_ms;
  while (true) {
    auto result = attempt();
    if (result.is_ok() || !retriable(result.code())) return result;
    int64_t left = deadline - steady_ms();
    if (left <= backoff_ms) return result;
    std::this_thread::sleep_for(std::chrono::milliseconds(backoff_ms));
    backoff_ms = std::min(backoff_ms * 2, config_.retry_backoff_max_ms);
    // Leaders, the controller and live brokers may have changed.
    (void)cluster_->refresh_metadata(std::vector<std::string>{});
  }
}

Admin::~Admin() = default;

int32_t Admin::server_timeout_ms() const {
  // The broker answers before this client's request timeout runs out.
  return std::max(100, request_timeout_ms_ - request_timeout_ms_ / 4);
}

Result<int32_t> Admin::controller() {
  if (cluster_->metadata().controller_id < 0) {
    // An empty topic list asks for brokers and controller only.
    MQ_RETURN_IF_ERROR(cluster_->refresh_metadata(std::vector<std::string>{}));
  }
  int32_t id = cluster_->metadata().controller_id;
  if (id >= 0 && cluster_->metadata().broker(id) != nullptr) return id;
  return cluster_->any_node();
}

template <class Request>
Result<typename Request::Response> Admin::call_controller(const Request& request) {
  return retrying(
      [&]() -> Result<typename Request::Response> {
        MQ_ASSIGN_OR_RETURN(int32_t node, controller());
        Result<typename Request::Response> response = cluster_->call(node, request);
        if (response.code() == ErrorCode::kNotController) {
          // Forget the controller the metadata named; the next attempt asks again.
          MQ_RETURN_IF_ERROR(cluster_->refresh_metadata(std::vector<std::string>{}));
        }
        return response;
      },
      transient);
}

template <class Request>
Result<typename Request::Response> Admin::call_for_resource(const ConfigResource& resource,
                                                            const Request& request) {
  int32_t broker = -1;
  // An empty broker name means the broker that answers: any will do.
  if (resource.type == transport::ConfigResourceType::kBroker && !resource.name.empty()) {
    auto [end, ec] =
        std::from_chars(resource.name.data(), resource.name.data() + resource.name.size(), broker);
    if (ec != std::errc() || end != resource.name.data() + resource.name.size() || broker < 0) {
      return Status(ErrorCode::kInvalidRequest,
                    "broker \"" + resource.name + "\" is not a broker id");
    }
  }
  if (broker < 0) return call_controller(request);
  // A broker's settings are its own: asked of that broker. One the
  // metadata does not list is said at once, not waited for.
  MQ_RETURN_IF_ERROR(
      retrying([&] { return cluster_->refresh_metadata(std::vector<std::string>{}); }, transient));
  if (cluster_->metadata().broker(broker) == nullptr) {
    return Status(ErrorCode::kBrokerNotAvailable,
                  "broker " + resource.name +
                      " is not in the cluster metadata (not registered, fenced or down)");
  }
  return retrying([&] { return cluster_->call(broker, request); }, transient);
}

Result<std::vector<ItemResult>> Admin::create_topics(const std::vector<NewTopic>& topics,
                                                     bool validate_only) {
  std::lock_guard lock(mu_);
  transport::CreateTopicsRequest request{.validate_only = validate_only};
  for (const NewTopic& topic : topics) {
    auto& out = request.topics.emplace_back();
    out.name = topic.name;
    out.num_partitions = topic.num_partitions;
    out.replication_factor = topic.replication_factor;
    for (const auto& [name, value] : topic.configs) out.configs.push_back({name, value});
  }
  MQ_ASSIGN_OR_RETURN(transport::CreateTopicsResponse response, call_controller(request));
  std::vector<ItemResult> results;
  for (const auto& topic : response.topics) {
    results.push_back({topic.name, item_status(topic.error_code, topic.error_message)});
  }
  return results;
}

Result<std::vector<ItemResult>> Admin::delete_topics(const std::vector<std::string>& topics) {
  std::lock_guard lock(mu_);
  MQ_ASSIGN_OR_RETURN(transport::DeleteTopicsResponse response,
                      call_controller(transport::DeleteTopicsRequest{.topic_names = topics}));
  std::vector<ItemResult> results;
  for (const auto& topic : response.responses) {
    results.push_back({topic.name, item_status(topic.error_code, topic.error_message)});
  }
  return results;
}

Result<std::vector<ItemResult>> Admin::create_partitions(
    const std::map<std::string, int32_t>& totals, bool validate_only) {
  std::lock_guard lock(mu_);
  transport::CreatePartitionsRequest request{.validate_only = validate_only};
  for (const auto& [name, count] : totals) request.topics.push_back({.name = name, .count = count});
  MQ_ASSIGN_OR_RETURN(transport::CreatePartitionsResponse response, call_controller(request));
  std::vector<ItemResult> results;
  for (const auto& topic : response.results) {
    results.push_back({topic.name, item_status(topic.error_code, topic.error_message)});
  }
  return results;
}

Result<std::vector<ConfigEntry>> Admin::describe_configs(
    const ConfigResource& resource, const std::optional<std::vector<std::string>>& keys) {
  std::lock_guard lock(mu_);
  transport::DescribeConfigsRequest request;
  request.resources.push_back(
      {.resource_type = resource.type, .resource_name = resource.name, .configuration_keys = keys});
  MQ_ASSIGN_OR_RETURN(transport::DescribeConfigsResponse response,
                      call_for_resource(resource, request));
  if (response.results.size() != 1) {
    return Status(
        ErrorCode::kUnknown,
        "DescribeConfigs answered " + std::to_string(response.results.size()) + " resources for 1");
  }
  const auto& result = response.results.front();
  MQ_RETURN_IF_ERROR(item_status(result.error_code, result.error_message));
  return config_entries(result);
}

Status Admin::alter_configs(const ConfigResource& resource,
                            const std::vector<ConfigChange>& changes, bool validate_only) {
  std::lock_guard lock(mu_);
  transport::AlterConfigsRequest request{.validate_only = validate_only};
  auto& out = request.resources.emplace_back();
  out.resource_type = resource.type;
  out.resource_name = resource.name;
  for (const ConfigChange& change : changes) {
    out.configs.push_back({.name = change.name,
                           .operation = change.value ? transport::AlterConfigOp::kSet
                                                     : transport::AlterConfigOp::kDelete,
                           .value = change.value});
  }
  MQ_ASSIGN_OR_RETURN(transport::AlterConfigsResponse response,
                      call_for_resource(resource, request));
  if (response.responses.size() != 1) {
    return Status(
        ErrorCode::kUnknown,
        "AlterConfigs answered " + std::to_string(response.responses.size()) + " resources for 1");
  }
  return item_status(response.responses.front().error_code,
                     response.responses.front().error_message);
}

Result<std::map<std::string, Result<std::vector<ConfigEntry>>>> Admin::describe_topic_configs(
    const std::vector<std::string>& topics, const std::optional<std::vector<std::string>>& keys) {
  std::lock_guard lock(mu_);
  std::map<std::string, Result<std::vector<ConfigEntry>>> configs;
  if (topics.empty()) return configs;
  transport::DescribeConfigsRequest request;
  for (const std::string& topic : topics) {
    request.resources.push_back({.resource_type = transport::ConfigResourceType::kTopic,
                                 .resource_name = topic,
                                 .configuration_keys = keys});
  }
  MQ_ASSIGN_OR_RETURN(transport::DescribeConfigsResponse response, call_controller(request));
  for (const auto& result : response.results) {
    Status status = item_status(result.error_code, result.error_message);
    if (!status.is_ok()) {
      configs.insert_or_assign(result.resource_name, status);
      continue;
    }
    configs.insert_or_assign(result.resource_name, config_entries(result));
  }
  for (const std::string& topic : topics) {
    if (!configs.contains(topic)) {
      configs.insert_or_assign(
          topic, Status(ErrorCode::kUnknown, "DescribeConfigs did not answer for " + topic));
    }
  }
  return configs;
}

Result<std::map<TopicPartition, ListedOffset>> Admin::list_offsets(
    const std::map<TopicPartition, int64_t>& timestamps) {
  std::lock_guard lock(mu_);
  return list_offsets_locked(timestamps);
}

Result<std::map<TopicPartition, ListedOffset>> Admin::list_offsets_locked(
    const std::map<TopicPartition, int64_t>& timestamps) {
  // A partition the metadata lists is retried while its leader moves or has
  // not loaded it yet (UNKNOWN_TOPIC_OR_PARTITION from the leader); one the
  // metadata does not list fails at once.
  bool listed = true;
  return retrying(
      [&]() -> Result<std::map<TopicPartition, ListedOffset>> {
        MQ_ASSIGN_OR_RETURN(auto each, list_offsets_each_locked(timestamps));
        std::map<TopicPartition, ListedOffset> offsets;
        listed = true;
        Status first_error;
        for (auto& [tp, offset] : each) {
          if (offset.is_ok()) {
            offsets[tp] = *offset;
            continue;
          }
          if (cluster_->metadata().partition(tp.topic, tp.partition) == nullptr) listed = false;
          if (first_error.is_ok()) first_error = offset.status();
        }
        if (!first_error.is_ok()) return first_error;
        return offsets;
      },
      [&](ErrorCode code) {
        return transient(code) || (listed && code == ErrorCode::kUnknownTopicOrPartition);
      });
}

Result<std::map<TopicPartition, Result<ListedOffset>>> Admin::list_offsets_each(
    const std::map<TopicPartition, int64_t>& timestamps) {
  std::lock_guard lock(mu_);
  return list_offsets_each_locked(timestamps);
}

Result<int32_t> Admin::leader_of(const TopicPartition& tp) const {
  const PartitionInfo* info = cluster_->metadata().partition(tp.topic, tp.partition);
  if (info == nullptr) {
    return Status(ErrorCode::kUnknownTopicOrPartition, tp.to_string() + " does not exist");
  }
  if (info->leader_id < 0) {
    return Status(ErrorCode::kLeaderNotAvailable, tp.to_string() + " has no leader");
  }
  return info->leader_id;
}

Result<std::map<TopicPartition, Result<ListedOffset>>> Admin::list_offsets_each_locked(
    const std::map<TopicPartition, int64_t>& timestamps) {
  std::set<std::string> topics;
  for (const auto& [tp, timestamp] : timestamps) topics.insert(tp.topic);
  MQ_RETURN_IF_ERROR(
      cluster_->refresh_metadata(std::vector<std::string>(topics.begin(), topics.end())));
  std::map<TopicPartition, Result<ListedOffset>> offsets;
  std::map<int32_t, transport::ListOffsetsRequest> requests;
  for (const auto& [tp, timestamp] : timestamps) {
    Result<int32_t> leader = leader_of(tp);
    if (!leader.is_ok()) {
      offsets.insert_or_assign(tp, leader.status());
      continue;
    }
    // Until its leader answers, a partition has no offset: one the answer leaves out keeps this.
    offsets.insert_or_assign(
        tp, Status(ErrorCode::kUnknown, "ListOffsets for " + tp.to_string() + " was not answered"));
    transport::ListOffsetsRequest& request = requests[*leader];
    auto topic =
        std::ranges::find(request.topics, tp.topic, &transport::ListOffsetsRequest::Topic::name);
    if (topic == request.topics.end()) {
      topic = request.topics.insert(request.topics.end(), {.name = tp.topic});
    }
    topic->partitions.push_back({.partition_index = tp.partition, .timestamp = timestamp});
  }
  for (const auto& [node, request] : requests) {
    Result<transport::ListOffsetsResponse> response = cluster_->call(node, request);
    if (!response.is_ok()) {
      // Every partition this leader was asked for fails with the call.
      for (const auto& topic : request.topics) {
        for (const auto& partition : topic.partitions) {
          offsets.insert_or_assign(TopicPartition{topic.name, partition.partition_index},
                                   response.status());
        }
      }
      continue;
    }
    for (const auto& topic : response->topics) {
      for (const auto& partition : topic.partitions) {
        TopicPartition tp{topic.name, partition.partition_index};
        if (!offsets.contains(tp)) continue;  // not asked for
        if (partition.error_code != ErrorCode::kNone) {
          offsets.insert_or_assign(
              tp, Status(partition.error_code, "ListOffsets for " + tp.to_string() + " failed"));
        } else {
          offsets.insert_or_assign(
              tp, ListedOffset{partition.offset, partition.timestamp, partition.leader_epoch});
        }
      }
    }
  }
  return offsets;
}

Result<ClusterMetadata> Admin::describe_cluster(
    const std::optional<std::vector<std::string>>& topics, bool allow_auto_create) {
  std::lock_guard lock(mu_);
  return retrying(
      [&]() -> Result<ClusterMetadata> {
        MQ_ASSIGN_OR_RETURN(int32_t node, cluster_->any_node());
        MQ_ASSIGN_OR_RETURN(
            transport::MetadataResponse response,
            cluster_->call(
                node, transport::MetadataRequest{.topics = topics,
                                                 .allow_auto_topic_creation = allow_auto_create}));
        ClusterMetadata metadata;
        metadata.merge(response, steady_ms());
        return metadata;
      },
      transient);
}

Result<BrokerListing> Admin::describe_brokers() {
  std::lock_guard lock(mu_);
  MQ_ASSIGN_OR_RETURN(transport::DescribeClusterResponse response,
                      retrying(
                          [&]() -> Result<transport::DescribeClusterResponse> {
                            MQ_ASSIGN_OR_RETURN(int32_t node, cluster_->any_node());
                            return cluster_->call(node, transport::DescribeClusterRequest{});
                          },
                          transient));
  MQ_RETURN_IF_ERROR(item_status(response.error_code, response.error_message));
  BrokerListing listing{.cluster_id = response.cluster_id, .controller_id = response.controller_id};
  for (const auto& b : response.brokers) {
    listing.brokers.push_back({.broker = {b.node_id, b.host, b.port, b.rack},
                               .fenced = b.fenced,
                               .in_controlled_shutdown = b.in_controlled_shutdown});
  }
  return listing;
}

Result<std::vector<ElectionOutcome>> Admin::elect_leaders(
    transport::ElectionType type, const std::optional<std::vector<TopicPartition>>& partitions) {
  std::lock_guard lock(mu_);
  transport::ElectLeadersRequest request{.election_type = type, .timeout_ms = server_timeout_ms()};
  if (partitions) {
    std::map<std::string, std::vector<int32_t>> by_topic;
    std::vector<std::string> order;
    for (const TopicPartition& tp : *partitions) {
      auto [it, added] = by_topic.emplace(tp.topic, std::vector<int32_t>{});
      if (added) order.push_back(tp.topic);
      it->second.push_back(tp.partition);
    }
    request.topics.emplace();
    for (const std::string& topic : order) request.topics->push_back({topic, by_topic[topic]});
  }
  MQ_ASSIGN_OR_RETURN(transport::ElectLeadersResponse response, call_controller(request));
  MQ_RETURN_IF_ERROR(item_status(response.error_code, response.error_message));
  std::vector<ElectionOutcome> outcomes;
  for (const auto& topic : response.results) {
    for (const auto& p : topic.partitions) {
      ElectionOutcome& out = outcomes.emplace_back();
      out.partition = {topic.name, p.partition_index};
      out.status = item_status(p.error_code, p.error_message);
      out.elected = p.elected;
      out.leader_id = p.leader_id;
      if (p.error_code == ErrorCode::kNone) out.note = p.error_message.value_or("");
    }
  }
  return outcomes;
}

Result<std::vector<ReassignmentOutcome>> Admin::alter_reassignments(
    const std::vector<ReassignmentTarget>& targets, int64_t throttle_bytes_per_sec,
    bool validate_only) {
  std::lock_guard lock(mu_);
  transport::AlterPartitionReassignmentsRequest request{
      .timeout_ms = server_timeout_ms(),
      .throttle_bytes_per_sec = throttle_bytes_per_sec,
      .validate_only = validate_only};
  for (const ReassignmentTarget& t : targets) {
    if (request.topics.empty() || request.topics.back().name != t.partition.topic) {
      request.topics.push_back({.name = t.partition.topic});
    }
    request.topics.back().partitions.push_back(
        {.partition_index = t.partition.partition, .replicas = t.replicas});
  }
  MQ_ASSIGN_OR_RETURN(transport::AlterPartitionReassignmentsResponse response,
                      call_controller(request));
  MQ_RETURN_IF_ERROR(item_status(response.error_code, response.error_message));
  std::vector<ReassignmentOutcome> outcomes;
  for (const auto& topic : response.results) {
    for (const auto& p : topic.partitions) {
      outcomes.push_back(
          {{topic.name, p.partition_index}, item_status(p.error_code, p.error_message)});
    }
  }
  return outcomes;
}

Result<ReassignmentListing> Admin::list_reassignments(
    const std::optional<std::vector<TopicPartition>>& partitions) {
  std::lock_guard lock(mu_);
  transport::ListPartitionReassignmentsRequest request;
  if (partitions) {
    request.topics.emplace();
    for (const TopicPartition& tp : *partitions) {
      if (request.topics->empty() || request.topics->back().name != tp.topic) {
        request.topics->push_back({.name = tp.topic});
      }
      request.topics->back().partitions.push_back(tp.partition);
    }
  }
  MQ_ASSIGN_OR_RETURN(transport::ListPartitionReassignmentsResponse response,
                      call_controller(request));
  MQ_RETURN_IF_ERROR(item_status(response.error_code, response.error_message));
  ReassignmentListing listing{.throttle_bytes_per_sec = response.throttle_bytes_per_sec};
  for (const auto& topic : response.topics) {
    for (const auto& p : topic.partitions) {
      listing.partitions.push_back({.partition = {topic.name, p.partition_index},
                                    .replicas = p.replicas,
                                    .adding_replicas = p.adding_replicas,
                                    .removing_replicas = p.removing_replicas,
                                    .isr = p.isr,
                                    .leader_id = p.leader_id});
    }
  }
  return listing;
}

namespace {

std::string quorum_role_name(transport::QuorumRole role) {
  switch (role) {
    case transport::QuorumRole::kFollower:
      return "follower";
    case transport::QuorumRole::kPreCandidate:
      return "pre-candidate";
    case transport::QuorumRole::kCandidate:
      return "candidate";
    case transport::QuorumRole::kLeader:
      return "leader";
  }
  return "unknown(" + std::to_string(static_cast<int>(role)) + ")";
}

}  // namespace

Result<QuorumDescription> Admin::describe_quorum() {
  std::lock_guard lock(mu_);
  MQ_ASSIGN_OR_RETURN(transport::DescribeQuorumResponse response,
                      call_controller(transport::DescribeQuorumRequest{}));
  MQ_RETURN_IF_ERROR(item_status(response.error_code, response.error_message));
  if (response.members.empty() && response.leader_id >= 0 &&
      response.leader_id != response.node_id &&
      cluster_->metadata().broker(response.leader_id) != nullptr) {
    // The metadata's controller was not the quorum leader (any more): ask the leader.
    Result<transport::DescribeQuorumResponse> leader =
        cluster_->call(response.leader_id, transport::DescribeQuorumRequest{});
    if (leader.is_ok() && leader->error_code == ErrorCode::kNone) response = std::move(*leader);
  }
  QuorumDescription out{.node_id = response.node_id,
                        .voter = response.voter,
                        .role = quorum_role_name(response.role),
                        .leader_id = response.leader_id,
                        .term = response.term,
                        .commit_index = response.commit_index,
                        .applied_index = response.applied_index,
                        .last_log_index = response.last_log_index};
  for (const auto& m : response.members) {
    out.members.push_back({m.node_id, m.voter, m.match_index, m.lag, m.recent_active,
                           m.directory_id, m.heard_ms_ago});
  }
  out.directory_id = response.directory_id;
  out.voters_recorded_at = response.voters_recorded_at;
  for (const auto& v : response.voters)
    out.voters.push_back({v.node_id, v.directory_id, v.endpoint});
  return out;
}

template <class Request>
Status Admin::call_for_outcome(const Request& request, bool (*retriable)(ErrorCode)) {
  return retrying(
      [&]() -> Status {
        Result<typename Request::Response> response = call_controller(request);
        if (!response.is_ok()) return response.status();
        return item_status(response->error_code, response->error_message);
      },
      retriable);
}

namespace {
// A voter change waits out the one before it, and a controller elected a
// moment ago (it takes changes once it has committed an entry of its term).
bool voter_change_retriable(ErrorCode code) {
  return code == ErrorCode::kVoterChangeInProgress || code == ErrorCode::kNotController;
}
bool only_not_controller(ErrorCode code) {
  return code == ErrorCode::kNotController;
}
}  // namespace

template <class Request>
Status Admin::change_voters(const Request& request, ErrorCode done_already) {
  // An attempt answered with anything but "refused, another change is in
  // progress" may have made the change before its answer was lost: a
  // controller removing itself steps down as the change commits and answers
  // NOT_CONTROLLER, or the connection fails. The retry then finds the change
  // made (`done_already`), which is what was asked.
  bool maybe_made = false;
  return retrying(
      [&]() -> Status {
        Result<typename Request::Response> response = call_controller(request);
        Status status = response.is_ok()
                            ? item_status(response->error_code, response->error_message)
                            : response.status();
        if (status.code() == done_already && maybe_made) return Status::ok();
        if (!status.is_ok() && status.code() != ErrorCode::kVoterChangeInProgress) {
          maybe_made = true;
        }
        return status;
      },
      voter_change_retriable);
}

Status Admin::add_raft_voter(int32_t id, const std::string& endpoint) {
  std::lock_guard lock(mu_);
  return change_voters(
      transport::AddRaftVoterRequest{
          .voter_id = id, .endpoint = endpoint, .timeout_ms = server_timeout_ms()},
      ErrorCode::kDuplicateVoter);
}

Status Admin::remove_raft_voter(int32_t id) {
  std::lock_guard lock(mu_);
  return change_voters(
      transport::RemoveRaftVoterRequest{.voter_id = id, .timeout_ms = server_timeout_ms()},
      ErrorCode::kVoterNotFound);
}

Status Admin::unregister_broker(int32_t id) {
  std::lock_guard lock(mu_);
  return call_for_outcome(
      transport::UnregisterBrokerRequest{.broker_id = id, .timeout_ms = server_timeout_ms()},
      only_not_controller);
}

Result<std::vector<transport::AclBinding>> Admin::describe_acls(
    const transport::AclFilter& filter) {
  std::lock_guard lock(mu_);
  MQ_ASSIGN_OR_RETURN(transport::DescribeAclsResponse response,
                      retrying(
                          [&]() -> Result<transport::DescribeAclsResponse> {
                            MQ_ASSIGN_OR_RETURN(int32_t node, cluster_->any_node());
                            return cluster_->call(node, transport::DescribeAclsRequest{filter});
                          },
                          transient));
  MQ_RETURN_IF_ERROR(item_status(response.error_code, response.error_message));
  return std::move(response.acls);
}

Result<std::vector<Status>> Admin::create_acls(const std::vector<transport::AclBinding>& bindings) {
  std::lock_guard lock(mu_);
  MQ_ASSIGN_OR_RETURN(transport::CreateAclsResponse response,
                      call_controller(transport::CreateAclsRequest{bindings}));
  if (response.results.size() != bindings.size()) {
    return Status(ErrorCode::kCorruptMessage,
                  "CreateAcls answered " + std::to_string(response.results.size()) +
                      " results for " + std::to_string(bindings.size()) + " bindings");
  }
  std::vector<Status> results;
  for (const auto& r : response.results)
    results.push_back(item_status(r.error_code, r.error_message));
  return results;
}

Result<std::vector<Result<std::vector<transport::AclBinding>>>> Admin::delete_acls(
    const std::vector<transport::AclFilter>& filters) {
  std::lock_guard lock(mu_);
  MQ_ASSIGN_OR_RETURN(transport::DeleteAclsResponse response,
                      call_controller(transport::DeleteAclsRequest{filters}));
  if (response.results.size() != filters.size()) {
    return Status(ErrorCode::kCorruptMessage,
                  "DeleteAcls answered " + std::to_string(response.results.size()) +
                      " results for " + std::to_string(filters.size()) + " filters");
  }
  std::vector<Result<std::vector<transport::AclBinding>>> results;
  for (auto& r : response.results) {
    Status status = item_status(r.error_code, r.error_message);
    if (status.is_ok()) {
      results.emplace_back(std::move(r.deleted));
    } else {
      results.emplace_back(std::move(status));
    }
  }
  return results;
}

}  // namespace mq::client
