// ClusterNode: metadata-driven replicas, fetchers, ISR proposals, and the
// request handler's view of the cluster.
#include "broker/cluster_node.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

#include "base/node_address.h"

namespace mq::broker {
namespace {

using metadata::LocalPartitionChange;
using metadata::MetadataImage;

TopicInfo topic_info(const metadata::TopicState& topic) {
  TopicInfo info;
  info.name = topic.name;
  info.partitions = static_cast<int32_t>(topic.partitions.size());
  info.replication_factor =
      topic.partitions.empty() ? 1 : static_cast<int16_t>(topic.partitions[0].replicas.size());
  for (const metadata::ConfigEntry& c : topic.configs) info.configs[c.key] = c.value;
  return info;
}

bool live(const MetadataImage& image, int32_t broker) {
  const metadata::BrokerState* state = image.broker(broker);
  return state != nullptr && !state->fenced;
}

}  // namespace

ClusterNode::ClusterNode(const BrokerConfig& config, ReplicaManager& replicas)
    : config_(config),
      replicas_(replicas),
      reassignment_throttle_(std::make_shared<ReplicationThrottle>()) {}

ClusterNode::~ClusterNode() {
  stop();
}

std::chrono::milliseconds ClusterNode::call_timeout() const {
  // Long enough for an election and a commit.
  return std::chrono::milliseconds(std::max(5000, 4 * config_.cluster.quorum_election_timeout_ms));
}

Status ClusterNode::start(const std::string& client_endpoint) {
  member_ = std::make_unique<ClusterMember>(
      config_, ClusterMemberOptions{.client_endpoint = client_endpoint,
                                    .clean_shutdown = replicas_.previous_shutdown_clean()});
  member_->set_change_handler(
      [this](const MetadataImage& image, const std::vector<LocalPartitionChange>& changes) {
        apply(image, changes);
      });
  replicas_.set_producer_id_block_source([this]() -> Result<std::pair<int64_t, int64_t>> {
    MQ_ASSIGN_OR_RETURN(
        metadata::ProducerIdBlock block,
        member_->call<metadata::ProducerIdBlock>(
            CallKind::kAllocateProducerIds,
            BrokerEpochCall{.broker_id = config_.node_id, .broker_epoch = member_->broker_epoch()},
            call_timeout()));
    return std::pair<int64_t, int64_t>{block.start, block.start + block.size};
  });
  replicas_.set_producer_epoch_source(
      {.bump = [this](int64_t producer_id,
                      int16_t producer_epoch) -> Result<std::optional<int16_t>> {
         MQ_ASSIGN_OR_RETURN(BumpProducerEpochReply reply,
                             member_->call<BumpProducerEpochReply>(
                                 CallKind::kBumpProducerEpoch,
                                 BumpProducerEpochCall{.broker_id = config_.node_id,
                                                       .broker_epoch = member_->broker_epoch(),
                                                       .producer_id = producer_id,
                                                       .producer_epoch = producer_epoch},
                                 call_timeout()));
         if (reply.producer_epoch < 0) return std::optional<int16_t>();
         // Answered once every live broker fences the older epochs too.
         MQ_RETURN_IF_ERROR(await_everywhere([&](const MetadataImage& image) {
           return image.producer_epoch(producer_id) >= reply.producer_epoch;
         }));
         return std::optional<int16_t>(reply.producer_epoch);
       },
       .current =
           [this](int64_t producer_id) { return member_->image()->producer_epoch(producer_id); }});
  worker_ = std::thread([this] { work(); });
  return member_->start();
}

void ClusterNode::controlled_shutdown(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int32_t me = config_.node_id;
  auto leads = [me](const MetadataImage& image) {
    int32_t n = 0;
    for (const auto& [name, topic] : image.topics()) {
      for (const metadata::PartitionState& p : topic.partitions) n += p.leader == me;
    }
    return n;
  };
  if (member_ == nullptr || member_->broker_epoch() == 0) return;  // never registered
  int32_t leading = leads(*member_->image());
  spdlog::info("controlled shutdown: moving the leadership of {} partition(s) to other replicas",
               leading);
  Result<metadata::ControlledShutdownResponse> reply =
      Status(ErrorCode::kRequestTimedOut, "not asked");
  // Retried while a controller election may be under way, but not for the
  // whole timeout: without a quorum (the last nodes of a cluster being
  // stopped) nobody can move anything.
  auto asking_until = std::min(deadline, std::chrono::steady_clock::now() + call_timeout());
  while (std::chrono::steady_clock::now() < asking_until) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        asking_until - std::chrono::steady_clock::now());
    reply = member_->call<metadata::ControlledShutdownResponse>(
        CallKind::kControlledShutdown,
        BrokerEpochCall{.broker_id = me, .broker_epoch = member_->broker_epoch()},
        std::min(left, call_timeout()));
    if (reply.is_ok() || reply.code() == ErrorCode::kInvalidRequest) break;  // e.g. a stale epoch
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (!reply.is_ok()) {
    spdlog::warn(
        "controlled shutdown: {}; stopping anyway, the partitions led here fail over "
        "after the session timeout",
        reply.status().to_string());
    return;
  }
  while (leads(*member_->image()) > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  int32_t still = leads(*member_->image());
  if (still > 0) {
    spdlog::warn("controlled shutdown: {} partition(s) still led here after {} ms; stopping anyway",
                 still, timeout.count());
  } else {
    spdlog::info(
        "controlled shutdown: {} leadership(s) moved, {} partition(s) left without a "
        "leader (no other in-sync replica)",
        reply->leaderships_moved, reply->partitions_offline);
  }
}

void ClusterNode::stop() {
  {
    std::lock_guard lock(work_mu_);
    if (stop_) return;
    stop_ = true;
  }
  work_cv_.notify_all();
  if (worker_.joinable()) worker_.join();
  if (member_) member_->stop();
  std::map<int32_t, std::unique_ptr<ReplicaFetcher>> fetchers;
  {
    std::lock_guard lock(fetchers_mu_);
    fetchers.swap(fetchers_);
    followed_.clear();
  }
  for (auto& [id, fetcher] : fetchers) fetcher->stop();
  // Whatever the proposals queued last: answer them, nobody will send them.
  std::deque<std::function<void()>> left;
  {
    std::lock_guard lock(work_mu_);
    left.swap(work_);
  }
  for (auto& job : left) job();
}

std::vector<FollowerPartitionStatus> ClusterNode::follower_statuses() const {
  std::lock_guard lock(fetchers_mu_);
  std::vector<FollowerPartitionStatus> out;
  for (const auto& [id, fetcher] : fetchers_) {
    for (FollowerPartitionStatus& s : fetcher->statuses()) out.push_back(std::move(s));
  }
  return out;
}

// ------------------------------------------------------------ metadata changes

void ClusterNode::apply(const MetadataImage& image,
                        const std::vector<LocalPartitionChange>& changes) {
  int64_t throttle = metadata::reassignment_throttle(image);
  if (throttle != reassignment_throttle_->rate()) {
    spdlog::info("reassignment throttle: {}",
                 throttle > 0 ? std::to_string(throttle) + " bytes/s" : "none");
    reassignment_throttle_->set_rate(throttle);
  }
  // Every topic of the cluster is known here (Metadata, DescribeConfigs),
  // whether or not this broker holds a replica of it.
  for (const auto& [name, topic] : image.topics()) {
    Status st = replicas_.put_topic(topic_info(topic));
    if (!st.is_ok()) spdlog::error("topic {} from the metadata: {}", name, st.to_string());
  }
  for (const LocalPartitionChange& change : changes) apply_one(image, change);
  for (const TopicInfo& known : replicas_.topics()) {
    if (image.topic(known.name) == nullptr) {
      Status st = replicas_.remove_topic(known.name);
      if (!st.is_ok()) spdlog::error("removing topic {}: {}", known.name, st.to_string());
    }
  }
}

void ClusterNode::set_leadership_listener(LeadershipListener listener) {
  std::lock_guard lock(listener_mu_);
  listener_ = std::move(listener);
}

void ClusterNode::tell_leadership(const std::string& topic, int32_t partition, bool leading,
                                  int32_t leader_epoch) {
  std::lock_guard lock(listener_mu_);
  if (listener_) listener_(topic, partition, leading, leader_epoch);
}

void ClusterNode::apply_one(const MetadataImage& image, const LocalPartitionChange& change) {
  const std::string name = change.topic + "-" + std::to_string(change.partition);
  if (change.role == LocalPartitionChange::Role::kStopped) {
    tell_leadership(change.topic, change.partition, false, -1);
    unfollow(change.topic, change.partition);
    if (!change.deleted) {
      Status st = replicas_.remove_replica(change.topic, change.partition);
      if (!st.is_ok()) spdlog::error("{}: removing the replica: {}", name, st.to_string());
    }
    return;
  }
  Result<std::shared_ptr<Partition>> opened =
      replicas_.open_replica(change.topic, change.partition);
  if (!opened.is_ok()) {
    spdlog::error("{}: opening the replica: {}", name, opened.status().to_string());
    tell_leadership(change.topic, change.partition, false, -1);
    return;
  }
  std::shared_ptr<Partition> partition = *opened;
  partition->set_isr_changer(this);
  partition->set_replication_settings({.lag_time_max_ms = config_.cluster.replica_lag_time_max_ms});
  const metadata::PartitionState& state = change.state;
  if (change.role == LocalPartitionChange::Role::kLeader) {
    unfollow(change.topic, change.partition);
    Status st = partition->become_leader({.leader_epoch = state.leader_epoch,
                                          .partition_epoch = state.partition_epoch,
                                          .replicas = state.replicas,
                                          .isr = state.isr,
                                          .local_broker_id = config_.node_id});
    if (!st.is_ok()) {
      spdlog::error("{}: becoming leader: {}", name, st.to_string());
      return;
    }
    tell_leadership(change.topic, change.partition, true, state.leader_epoch);
    return;
  }
  // Told before the role changes: whoever serves from this partition as its
  // leader stops first.
  tell_leadership(change.topic, change.partition, false, state.leader_epoch);
  Status st = partition->become_follower({.leader_epoch = state.leader_epoch,
                                          .partition_epoch = state.partition_epoch,
                                          .leader_id = state.leader,
                                          .replicas = state.replicas});
  if (!st.is_ok()) {
    spdlog::error("{}: becoming follower: {}", name, st.to_string());
    return;
  }
  if (state.leader == metadata::kNoLeader) {
    unfollow(change.topic, change.partition);  // nobody to fetch from until a leader is elected
    return;
  }
  follow(image, partition, state.leader, state.leader_epoch,
         std::find(state.adding_replicas.begin(), state.adding_replicas.end(), config_.node_id) !=
             state.adding_replicas.end());
}

void ClusterNode::follow(const MetadataImage& image, const std::shared_ptr<Partition>& partition,
                         int32_t leader, int32_t leader_epoch, bool throttled) {
  const metadata::BrokerState* source = image.broker(leader);
  if (source == nullptr) return;
  std::lock_guard lock(fetchers_mu_);
  auto key = std::make_pair(partition->topic(), partition->index());
  auto followed = followed_.find(key);
  if (followed != followed_.end() && followed->second != leader) {
    fetchers_.at(followed->second)->remove_partition(key.first, key.second);
  }
  auto& fetcher = fetchers_[leader];
  if (fetcher && fetcher->options().leader_endpoint != source->endpoint) {
    // The leader restarted somewhere else: a new fetcher for the new address.
    fetcher->stop();
    fetcher.reset();
  }
  if (!fetcher) {
    fetcher = std::make_unique<ReplicaFetcher>(ReplicaFetcherOptions{
        .local_broker_id = config_.node_id,
        .leader_id = leader,
        .leader_endpoint = source->endpoint,
        .fetch_max_wait_ms = config_.cluster.replica_fetch_max_wait_ms,
        .fetch_max_bytes = static_cast<int32_t>(config_.cluster.replica_fetch_max_bytes),
        .throttle_bytes_per_sec = config_.cluster.replica_throttle_bytes_per_sec,
        .reassignment_throttle = reassignment_throttle_,
        .curve = broker_curve_client(config_)});
    fetcher->start();
  }
  fetcher->add_partition(partition, leader_epoch);
  fetcher->set_throttled(partition->topic(), partition->index(), throttled);
  followed_[key] = leader;
}

void ClusterNode::unfollow(const std::string& topic, int32_t partition) {
  std::lock_guard lock(fetchers_mu_);
  auto followed = followed_.find({topic, partition});
  if (followed == followed_.end()) return;
  fetchers_.at(followed->second)->remove_partition(topic, partition);
  followed_.erase(followed);
}

// ------------------------------------------------------------ ISR proposals

void ClusterNode::propose(const IsrProposal& proposal, std::function<void(Status)> done) {
  {
    std::lock_guard lock(work_mu_);
    if (stop_) {
      work_.push_back(
          [done] { done(Status(ErrorCode::kNotController, "the broker is stopping")); });
    } else {
      work_.push_back([this, proposal, done] {
        Result<AlterPartitionReply> reply = member_->call<AlterPartitionReply>(
            CallKind::kAlterPartition,
            metadata::AlterPartitionRequest{.broker_id = config_.node_id,
                                            .broker_epoch = member_->broker_epoch(),
                                            .topic = proposal.topic,
                                            .partition = proposal.partition,
                                            .leader_epoch = proposal.leader_epoch,
                                            .partition_epoch = proposal.partition_epoch,
                                            .new_isr = proposal.isr},
            call_timeout());
        if (!reply.is_ok()) {
          spdlog::warn("{}-{}: ISR change to {} refused: {}", proposal.topic, proposal.partition,
                       proposal.isr.size(), reply.status().to_string());
        }
        done(reply.status());
      });
    }
  }
  work_cv_.notify_all();
}

void ClusterNode::work() {
  auto next_shrink = std::chrono::steady_clock::now();
  std::unique_lock lock(work_mu_);
  while (!stop_) {
    if (!work_.empty()) {
      std::function<void()> job = std::move(work_.front());
      work_.pop_front();
      lock.unlock();
      job();
      lock.lock();
      continue;
    }
    if (std::chrono::steady_clock::now() >= next_shrink) {
      lock.unlock();
      for (const std::shared_ptr<Partition>& p : replicas_.partitions()) {
        if (p->is_leader()) p->maybe_shrink_isr();
      }
      lock.lock();
      next_shrink = std::chrono::steady_clock::now() +
                    std::chrono::milliseconds(
                        std::clamp<int64_t>(config_.cluster.replica_lag_time_max_ms / 4, 10, 1000));
      continue;
    }
    work_cv_.wait_until(lock, next_shrink);
  }
}

// ------------------------------------------------------------ ClusterView

transport::MetadataResponse ClusterNode::metadata(const transport::MetadataRequest& request) {
  std::shared_ptr<const MetadataImage> image = member_->image();
  bool may_create = request.allow_auto_topic_creation && replicas_.config().auto_create_topics;
  if (may_create && request.topics) {
    bool created = false;
    for (const std::string& name : *request.topics) {
      if (image->topic(name) != nullptr) continue;
      Status st = create_topic(name, -1, -1, {}, {}, false);
      created |= st.is_ok();
    }
    if (created) image = member_->image();
  }
  transport::MetadataResponse response;
  response.cluster_id = image->cluster_id();
  response.controller_id = member_->store().leader();
  for (const auto& [id, broker] : image->brokers()) {
    if (broker.fenced) continue;
    auto& out = response.brokers.emplace_back();
    out.node_id = id;
    split_endpoint(broker.endpoint, &out.host, &out.port);
    if (!broker.rack.empty()) out.rack = broker.rack;
  }
  std::vector<std::string> names;
  if (request.topics) {
    names = *request.topics;
  } else {
    for (const auto& [name, topic] : image->topics()) names.push_back(name);
  }
  for (const std::string& name : names) {
    auto& out = response.topics.emplace_back();
    out.name = name;
    out.is_internal = name.rfind("__", 0) == 0;
    const metadata::TopicState* topic = image->topic(name);
    if (topic == nullptr) {
      out.error_code = ErrorCode::kUnknownTopicOrPartition;
      continue;
    }
    for (size_t p = 0; p < topic->partitions.size(); p++) {
      const metadata::PartitionState& state = topic->partitions[p];
      auto& part = out.partitions.emplace_back();
      part.partition_index = static_cast<int32_t>(p);
      part.leader_id = state.leader;
      part.leader_epoch = state.leader_epoch;
      part.replica_nodes = state.replicas;
      part.isr_nodes = state.isr;
      for (int32_t replica : state.replicas) {
        if (!live(*image, replica)) part.offline_replicas.push_back(replica);
      }
      if (state.leader == metadata::kNoLeader) part.error_code = ErrorCode::kLeaderNotAvailable;
    }
  }
  return response;
}

transport::DescribeClusterResponse ClusterNode::describe_cluster() {
  std::shared_ptr<const MetadataImage> image = member_->image();
  transport::DescribeClusterResponse response;
  if (!image->cluster_id().empty()) response.cluster_id = image->cluster_id();
  response.controller_id = member_->store().leader();
  // Unlike Metadata, fenced brokers too: an operator needs to see the ones that are down.
  for (const auto& [id, broker] : image->brokers()) {
    auto& out = response.brokers.emplace_back();
    out.node_id = id;
    split_endpoint(broker.endpoint, &out.host, &out.port);
    if (!broker.rack.empty()) out.rack = broker.rack;
    out.fenced = broker.fenced;
    out.in_controlled_shutdown = broker.in_controlled_shutdown;
  }
  return response;
}

bool ClusterNode::knows_partition(const std::string& topic, int32_t index) const {
  const metadata::TopicState* known = member_->image()->topic(topic);
  return known != nullptr && index >= 0 && static_cast<size_t>(index) < known->partitions.size();
}

std::optional<ClusterView::Leader> ClusterNode::leader_of(const std::string& topic,
                                                          int32_t index) const {
  std::shared_ptr<const MetadataImage> image = member_->image();
  const metadata::TopicState* known = image->topic(topic);
  if (known == nullptr || index < 0 || static_cast<size_t>(index) >= known->partitions.size()) {
    return std::nullopt;
  }
  const metadata::PartitionState& p = known->partitions[static_cast<size_t>(index)];
  return Leader{.id = p.leader, .epoch = p.leader_epoch};
}

Status ClusterNode::await_image(const std::function<bool(const MetadataImage&)>& done) {
  if (member_->store().wait_for_image(done, call_timeout())) return Status::ok();
  return Status(ErrorCode::kRequestTimedOut,
                "the change was committed but has not reached this broker yet");
}

Status ClusterNode::await_everywhere(const std::function<bool(const MetadataImage&)>& done) {
  auto deadline = std::chrono::steady_clock::now() + call_timeout();
  MQ_RETURN_IF_ERROR(await_image(done));
  uint64_t offset = member_->image()->applied_index();
  std::vector<int32_t> behind;
  Status last = Status::ok();
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    Result<BrokersBehindReply> reply = member_->call<BrokersBehindReply>(
        CallKind::kBrokersBehind, BrokersBehindCall{.metadata_offset = offset}, left);
    if (reply.is_ok()) {
      if (reply->brokers.empty()) return Status::ok();
      behind = reply->brokers;
    } else {
      last = reply.status();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::string ids;
  for (int32_t id : behind) ids += (ids.empty() ? "" : ",") + std::to_string(id);
  spdlog::warn(
      "a committed change (metadata index {}) has not reached every live broker after {} ms "
      "(behind: {}{}); answering anyway",
      offset, call_timeout().count(), ids.empty() ? "unknown" : ids,
      last.is_ok() ? "" : "; " + last.to_string());
  return Status::ok();
}

Status ClusterNode::create_topic(const std::string& name, int32_t partitions,
                                 int32_t replication_factor, const TopicOverrides& configs,
                                 const std::vector<std::vector<int32_t>>& assignment,
                                 bool validate_only) {
  // Checked here too: every broker opens the topic's replicas with these.
  for (const auto& [k, v] : configs) MQ_RETURN_IF_ERROR(validate_topic_config(k, v));
  BrokerConfig defaults = replicas_.config();
  CreateTopicCall call{.name = name,
                       .partitions = partitions,
                       .replication_factor = replication_factor,
                       .validate_only = validate_only};
  if (assignment.empty()) {
    if (call.partitions == -1) call.partitions = defaults.default_partitions;
    if (call.replication_factor == -1) {
      call.replication_factor = defaults.default_replication_factor;
    }
  }
  for (const auto& [k, v] : configs) call.configs.push_back({k, v});
  for (const auto& replicas : assignment) call.assignment.push_back({replicas});
  MQ_RETURN_IF_ERROR(
      member_->call<CreateTopicReply>(CallKind::kCreateTopic, call, call_timeout()).status());
  if (validate_only) return Status::ok();
  return await_everywhere([&](const MetadataImage& image) { return image.topic(name) != nullptr; });
}

Status ClusterNode::delete_topic(const std::string& name) {
  MQ_RETURN_IF_ERROR(
      member_
          ->call<EmptyReply>(CallKind::kDeleteTopic, DeleteTopicCall{.name = name}, call_timeout())
          .status());
  return await_everywhere([&](const MetadataImage& image) { return image.topic(name) == nullptr; });
}

Status ClusterNode::add_partitions(const std::string& name, int32_t total, bool validate_only) {
  MQ_RETURN_IF_ERROR(
      member_
          ->call<EmptyReply>(
              CallKind::kAddPartitions,
              AddPartitionsCall{.name = name, .total = total, .validate_only = validate_only},
              call_timeout())
          .status());
  if (validate_only) return Status::ok();
  return await_everywhere([&](const MetadataImage& image) {
    const metadata::TopicState* topic = image.topic(name);
    return topic != nullptr && static_cast<int32_t>(topic->partitions.size()) >= total;
  });
}

Status ClusterNode::alter_topic_configs(const std::string& name, const TopicOverrides& set,
                                        const std::vector<std::string>& remove,
                                        bool validate_only) {
  for (const auto& [k, v] : set) MQ_RETURN_IF_ERROR(validate_topic_config(k, v));
  AlterTopicConfigsCall call{.name = name, .remove = remove, .validate_only = validate_only};
  for (const auto& [k, v] : set) call.set.push_back({k, v});
  MQ_RETURN_IF_ERROR(
      member_->call<EmptyReply>(CallKind::kAlterTopicConfigs, call, call_timeout()).status());
  if (validate_only) return Status::ok();
  return await_everywhere([&](const MetadataImage& image) {
    const metadata::TopicState* topic = image.topic(name);
    if (topic == nullptr) return true;  // deleted meanwhile
    for (const auto& [k, v] : set) {
      const std::string* value = topic->config(k);
      if (value == nullptr || *value != v) return false;
    }
    for (const std::string& k : remove) {
      if (topic->config(k) != nullptr) return false;
    }
    return true;
  });
}

transport::ElectLeadersResponse ClusterNode::elect_leaders(
    const transport::ElectLeadersRequest& request) {
  using transport::ElectionType;
  transport::ElectLeadersResponse response;
  if (request.election_type != ElectionType::kPreferred &&
      request.election_type != ElectionType::kUnclean) {
    response.error_code = ErrorCode::kInvalidRequest;
    response.error_message = "unknown election type " +
                             std::to_string(static_cast<int>(request.election_type)) +
                             " (0 = preferred, 1 = unclean)";
    return response;
  }
  if (request.topics && request.topics->empty()) return response;
  ElectLeadersCall call{.election_type = static_cast<int8_t>(request.election_type)};
  if (request.topics) {
    for (const auto& topic : *request.topics) {
      for (int32_t p : topic.partitions) call.partitions.push_back({topic.name, p});
    }
  }
  std::chrono::milliseconds timeout =
      request.timeout_ms > 0 ? std::chrono::milliseconds(request.timeout_ms) : call_timeout();
  Result<ElectLeadersReply> reply =
      member_->call<ElectLeadersReply>(CallKind::kElectLeaders, call, timeout);
  if (!reply.is_ok()) {
    if (!request.topics) {
      response.error_code = reply.code();
      response.error_message = reply.status().message();
      return response;
    }
    // Every partition asked for carries the failure.
    for (const auto& topic : *request.topics) {
      auto& out = response.results.emplace_back();
      out.name = topic.name;
      for (int32_t p : topic.partitions) {
        out.partitions.push_back({.partition_index = p,
                                  .error_code = reply.code(),
                                  .error_message = reply.status().message()});
      }
    }
    return response;
  }
  // Answer once the elected leaders are in every live broker's image, so a
  // Metadata request anywhere right after shows them.
  bool preferred = request.election_type == ElectionType::kPreferred;
  auto has_new_leader = [preferred](const metadata::PartitionState& p) {
    if (p.leader == metadata::kNoLeader) return false;
    return !preferred || (!p.replicas.empty() && p.leader == p.replicas.front());
  };
  Status reached = await_everywhere([&](const MetadataImage& image) {
    for (const PartitionResult& r : reply->results) {
      if (r.error_code != ErrorCode::kNone) continue;
      const metadata::PartitionState* p = image.partition(r.topic, r.partition);
      if (p != nullptr && !has_new_leader(*p)) return false;  // deleted meanwhile: done
    }
    return true;
  });
  if (!reached.is_ok()) spdlog::warn("ElectLeaders: {}", reached.to_string());
  std::shared_ptr<const MetadataImage> image = member_->image();
  constexpr std::string_view kNotNeeded = "ELECTION_NOT_NEEDED: ";
  for (const PartitionResult& r : reply->results) {
    transport::ElectLeadersResponse::Partition out{.partition_index = r.partition,
                                                   .error_code = r.error_code};
    if (r.error_code == ErrorCode::kInvalidRequest && r.error_message.starts_with(kNotNeeded)) {
      out.error_code = ErrorCode::kNone;
      out.error_message = "election not needed: " + r.error_message.substr(kNotNeeded.size());
    } else if (r.error_code != ErrorCode::kNone) {
      out.error_message = r.error_message;
    } else {
      out.elected = true;
    }
    const metadata::PartitionState* p = image->partition(r.topic, r.partition);
    if (p != nullptr) out.leader_id = p->leader;
    transport::results_of(response.results, r.topic).partitions.push_back(std::move(out));
  }
  return response;
}

transport::AlterPartitionReassignmentsResponse ClusterNode::alter_reassignments(
    const transport::AlterPartitionReassignmentsRequest& request) {
  transport::AlterPartitionReassignmentsResponse response;
  if (request.throttle_bytes_per_sec < -1) {
    response.error_code = ErrorCode::kInvalidRequest;
    response.error_message =
        "throttle_bytes_per_sec must be -1 (unchanged), 0 (none) or a rate in bytes per second";
    return response;
  }
  AlterReassignmentsCall call{.throttle_bytes_per_sec = request.throttle_bytes_per_sec,
                              .validate_only = request.validate_only};
  for (const auto& topic : request.topics) {
    for (const auto& p : topic.partitions) {
      call.partitions.push_back({topic.name, p.partition_index, p.replicas});
    }
  }
  if (call.partitions.empty() && call.throttle_bytes_per_sec < 0) return response;
  std::chrono::milliseconds timeout =
      request.timeout_ms > 0 ? std::chrono::milliseconds(request.timeout_ms) : call_timeout();
  Result<AlterReassignmentsReply> reply =
      member_->call<AlterReassignmentsReply>(CallKind::kAlterReassignments, call, timeout);
  if (!reply.is_ok()) {
    response.error_code = reply.code();
    response.error_message = reply.status().message();
    return response;
  }
  // Answer once the accepted decisions are in every live broker's image: a
  // ListPartitionReassignments or Metadata anywhere right after shows them.
  if (!request.validate_only) {
    Status reached = await_everywhere([&](const MetadataImage& image) {
      for (size_t i = 0; i < reply->results.size() && i < call.partitions.size(); ++i) {
        if (reply->results[i].error_code != ErrorCode::kNone) continue;
        const ReassignPartition& asked = call.partitions[i];
        const metadata::PartitionState* p = image.partition(asked.topic, asked.partition);
        if (p == nullptr) continue;  // deleted meanwhile
        if (asked.replicas ? p->target_replicas() != *asked.replicas : p->reassigning()) {
          return false;
        }
      }
      if (request.throttle_bytes_per_sec >= 0 &&
          std::any_of(reply->results.begin(), reply->results.end(),
                      [](const PartitionResult& r) { return r.error_code == ErrorCode::kNone; })) {
        // Set, or already removed again because every move completed at once.
        int64_t throttle = metadata::reassignment_throttle(image);
        if (throttle != request.throttle_bytes_per_sec && throttle != 0) return false;
      }
      return true;
    });
    if (!reached.is_ok()) spdlog::warn("AlterPartitionReassignments: {}", reached.to_string());
  }
  for (const PartitionResult& r : reply->results) {
    transport::PartitionOutcome out{.partition_index = r.partition, .error_code = r.error_code};
    if (r.error_code != ErrorCode::kNone) out.error_message = r.error_message;
    transport::results_of(response.results, r.topic).partitions.push_back(std::move(out));
  }
  return response;
}

transport::ListPartitionReassignmentsResponse ClusterNode::list_reassignments(
    const transport::ListPartitionReassignmentsRequest& request) {
  std::shared_ptr<const MetadataImage> image = member_->image();
  transport::ListPartitionReassignmentsResponse response;
  response.throttle_bytes_per_sec = metadata::reassignment_throttle(*image);
  auto add = [&](const std::string& topic, int32_t index, const metadata::PartitionState& p) {
    if (!p.reassigning()) return;
    if (response.topics.empty() || response.topics.back().name != topic) {
      response.topics.push_back({.name = topic});
    }
    response.topics.back().partitions.push_back({.partition_index = index,
                                                 .replicas = p.replicas,
                                                 .adding_replicas = p.adding_replicas,
                                                 .removing_replicas = p.removing_replicas,
                                                 .isr = p.isr,
                                                 .leader_id = p.leader});
  };
  if (!request.topics) {
    for (const auto& [name, topic] : image->topics()) {
      for (size_t i = 0; i < topic.partitions.size(); ++i) {
        add(name, static_cast<int32_t>(i), topic.partitions[i]);
      }
    }
    return response;
  }
  for (const auto& topic : *request.topics) {
    for (int32_t p : topic.partitions) {
      const metadata::PartitionState* state = image->partition(topic.name, p);
      if (state != nullptr) add(topic.name, p, *state);
    }
  }
  return response;
}

}  // namespace mq::broker
