// The controller's partition operations: AlterPartition from leaders,
// preferred and unclean elections, automatic leader rebalancing, and replica
// reassignment.
#include <algorithm>
#include <set>

#include "metadata/controller.h"

namespace mq::metadata {
namespace {

std::string name_of(const std::string& topic, int32_t partition) {
  return topic + "-" + std::to_string(partition);
}

}  // namespace

Result<Decision<PartitionState>> Controller::alter_partition(const AlterPartitionRequest& request) {
  MQ_RETURN_IF_ERROR(current_broker(request.broker_id, request.broker_epoch).status());
  const TopicState* topic = image_->topic(request.topic);
  const PartitionState* current = image_->partition(request.topic, request.partition);
  std::string name = name_of(request.topic, request.partition);
  if (topic == nullptr || current == nullptr) {
    return Status(ErrorCode::kUnknownTopicOrPartition, "no partition " + name);
  }
  if (request.leader_epoch < current->leader_epoch) {
    return Status(ErrorCode::kFencedLeaderEpoch,
                  name + ": leader epoch " + std::to_string(request.leader_epoch) +
                      " is older than the current " + std::to_string(current->leader_epoch));
  }
  if (request.leader_epoch > current->leader_epoch) {
    return Status(ErrorCode::kUnknownLeaderEpoch,
                  name + ": leader epoch " + std::to_string(request.leader_epoch) +
                      " is newer than the current " + std::to_string(current->leader_epoch));
  }
  if (current->leader != request.broker_id) {
    return Status(ErrorCode::kNotLeader, name + ": broker " + std::to_string(request.broker_id) +
                                             " is not the leader (" +
                                             std::to_string(current->leader) + ")");
  }
  if (request.partition_epoch != current->partition_epoch) {
    return Status(ErrorCode::kInvalidRequest,
                  "INVALID_UPDATE_VERSION: " + name + " partition epoch " +
                      std::to_string(request.partition_epoch) + " is not the current " +
                      std::to_string(current->partition_epoch));
  }
  if (!contains(request.new_isr, request.broker_id)) {
    return Status(ErrorCode::kInvalidRequest, name + ": the new ISR must contain the leader");
  }
  BrokerView view(*image_);
  std::set<BrokerId> seen;
  for (BrokerId id : request.new_isr) {
    if (!seen.insert(id).second) {
      return Status(ErrorCode::kInvalidRequest,
                    name + ": the new ISR lists broker " + std::to_string(id) + " twice");
    }
    if (!contains(current->replicas, id)) {
      return Status(ErrorCode::kInvalidRequest,
                    name + ": broker " + std::to_string(id) + " is not a replica");
    }
    if (!view.electable(id)) {
      return Status(ErrorCode::kInvalidRequest, "INELIGIBLE_REPLICA: " + name + ": broker " +
                                                    std::to_string(id) +
                                                    " is fenced, shutting down or unregistered");
    }
  }
  PartitionTarget target = target_for(*topic);
  target.isr = request.new_isr;
  PartitionDecision decided =
      decide_partition(request.topic, request.partition, *current, target, view);
  Decision<PartitionState> decision;
  if (decided.change) decision.records.push_back(*decided.change);
  decision.response = std::move(decided.next);
  return decision;
}

Decision<std::vector<ElectionResult>> Controller::elect_leaders(
    ElectionType type, const std::vector<TopicPartition>& partitions) {
  std::vector<TopicPartition> wanted = partitions;
  if (wanted.empty()) {
    for (const auto& [name, topic] : image_->topics()) {
      for (size_t i = 0; i < topic.partitions.size(); ++i) {
        wanted.push_back({name, static_cast<int32_t>(i)});
      }
    }
  }
  Decision<std::vector<ElectionResult>> decision;
  BrokerView view(*image_);
  std::set<std::pair<std::string, int32_t>> done;
  for (const TopicPartition& tp : wanted) {
    std::string name = name_of(tp.topic, tp.partition);
    const TopicState* topic = image_->topic(tp.topic);
    const PartitionState* current = image_->partition(tp.topic, tp.partition);
    ElectionResult result{tp, Status::ok()};
    if (topic == nullptr || current == nullptr) {
      result.status = Status(ErrorCode::kUnknownTopicOrPartition, "no partition " + name);
    } else if (!done.insert({tp.topic, tp.partition}).second) {
      result.status = Status(ErrorCode::kInvalidRequest, name + " is listed twice");
    } else if (type == ElectionType::kPreferred) {
      BrokerId preferred = current->replicas.front();
      if (current->leader == preferred) {
        result.status = Status(ErrorCode::kInvalidRequest,
                               "ELECTION_NOT_NEEDED: " + name + " is led by its preferred replica");
      } else if (!contains(current->isr, preferred) || !view.electable(preferred)) {
        result.status = Status(ErrorCode::kLeaderNotAvailable,
                               "PREFERRED_LEADER_NOT_AVAILABLE: " + name + ": broker " +
                                   std::to_string(preferred) + " is not a live ISR member");
      } else {
        PartitionTarget target = target_for(*topic);
        target.preference = LeaderPreference::kPreferred;
        PartitionDecision decided =
            decide_partition(tp.topic, tp.partition, *current, target, view);
        if (decided.change) decision.records.push_back(*decided.change);
      }
    } else if (current->leader != kNoLeader) {
      result.status =
          Status(ErrorCode::kInvalidRequest, "ELECTION_NOT_NEEDED: " + name + " has a leader");
    } else {
      PartitionTarget target = target_for(*topic);
      target.allow_unclean = true;
      PartitionDecision decided = decide_partition(tp.topic, tp.partition, *current, target, view);
      if (decided.next.leader == kNoLeader) {
        result.status =
            Status(ErrorCode::kLeaderNotAvailable, name + ": no replica is on a live broker");
      } else if (decided.change) {
        decision.records.push_back(*decided.change);
      }
    }
    decision.response.push_back(std::move(result));
  }
  return decision;
}

RecordBatch Controller::auto_rebalance(int64_t now_ms) {
  RecordBatch records;
  if (!config_.auto_leader_rebalance) return records;
  if (last_rebalance_ms_ != INT64_MIN &&
      now_ms - last_rebalance_ms_ < config_.leader_rebalance_interval_ms) {
    return records;
  }
  last_rebalance_ms_ = now_ms;
  // Per preferred broker: partitions it should lead, and those it does not.
  std::map<BrokerId, std::pair<int64_t, int64_t>> counts;
  for (const auto& [name, topic] : image_->topics()) {
    for (const PartitionState& p : topic.partitions) {
      auto& [preferred, not_led] = counts[p.replicas.front()];
      ++preferred;
      if (p.leader != p.replicas.front()) ++not_led;
    }
  }
  BrokerView view(*image_);
  std::set<BrokerId> imbalanced;
  for (const auto& [id, count] : counts) {
    if (count.second * 100 > count.first * config_.leader_imbalance_percent && view.electable(id)) {
      imbalanced.insert(id);
    }
  }
  if (imbalanced.empty()) return records;
  for (const auto& [name, topic] : image_->topics()) {
    PartitionTarget target = target_for(topic);
    target.preference = LeaderPreference::kPreferred;
    for (size_t i = 0; i < topic.partitions.size(); ++i) {
      const PartitionState& p = topic.partitions[i];
      BrokerId preferred = p.replicas.front();
      if (p.leader == preferred || !imbalanced.contains(preferred) || !contains(p.isr, preferred)) {
        continue;
      }
      PartitionDecision decided = decide_partition(name, static_cast<int32_t>(i), p, target, view);
      if (decided.change) records.push_back(*decided.change);
    }
  }
  return records;
}

Result<RecordBatch> Controller::reassign(const TopicPartition& tp,
                                         const std::vector<BrokerId>& target_replicas) {
  std::string name = name_of(tp.topic, tp.partition);
  const TopicState* topic = image_->topic(tp.topic);
  const PartitionState* current = image_->partition(tp.topic, tp.partition);
  if (topic == nullptr || current == nullptr) {
    return Status(ErrorCode::kUnknownTopicOrPartition, "no partition " + name);
  }
  if (current->reassigning()) {
    return Status(ErrorCode::kInvalidRequest,
                  "REASSIGNMENT_IN_PROGRESS: " + name + " is being reassigned; cancel it first");
  }
  if (target_replicas.empty()) {
    return Status(ErrorCode::kInvalidReplicaAssignment, name + ": no target replicas");
  }
  std::set<BrokerId> seen;
  for (BrokerId id : target_replicas) {
    if (!seen.insert(id).second) {
      return Status(ErrorCode::kInvalidReplicaAssignment,
                    name + ": broker " + std::to_string(id) + " is listed twice");
    }
    if (image_->broker(id) == nullptr) {
      return Status(ErrorCode::kInvalidReplicaAssignment,
                    name + ": broker " + std::to_string(id) + " is not registered");
    }
  }
  if (target_replicas == current->replicas) return RecordBatch{};
  // Replicas = target, then the ones leaving; the leaving ones stay (and
  // keep serving) until every target replica is in the ISR.
  std::vector<BrokerId> replicas = target_replicas;
  std::vector<BrokerId> adding;
  std::vector<BrokerId> removing;
  for (BrokerId id : target_replicas) {
    if (!contains(current->replicas, id)) adding.push_back(id);
  }
  for (BrokerId id : current->replicas) {
    if (!contains(target_replicas, id)) {
      replicas.push_back(id);
      removing.push_back(id);
    }
  }
  PartitionTarget target = target_for(*topic);
  target.replicas = replicas;
  target.adding_replicas = adding;
  target.removing_replicas = removing;
  BrokerView view(*image_);
  PartitionDecision decided = decide_partition(tp.topic, tp.partition, *current, target, view);
  RecordBatch records;
  if (decided.change) records.push_back(*decided.change);
  return records;
}

Result<RecordBatch> Controller::cancel_reassignment(const TopicPartition& tp) {
  std::string name = name_of(tp.topic, tp.partition);
  const TopicState* topic = image_->topic(tp.topic);
  const PartitionState* current = image_->partition(tp.topic, tp.partition);
  if (topic == nullptr || current == nullptr) {
    return Status(ErrorCode::kUnknownTopicOrPartition, "no partition " + name);
  }
  if (!current->reassigning()) {
    return Status(ErrorCode::kInvalidRequest,
                  "NO_REASSIGNMENT_IN_PROGRESS: " + name + " is not being reassigned");
  }
  std::vector<BrokerId> original;
  for (BrokerId id : current->replicas) {
    if (!contains(current->adding_replicas, id)) original.push_back(id);
  }
  bool any_in_isr = std::any_of(original.begin(), original.end(),
                                [&](BrokerId id) { return contains(current->isr, id); });
  if (!any_in_isr) {
    return Status(ErrorCode::kInvalidRequest,
                  name +
                      ": no original replica is in the ISR; cancelling would leave it "
                      "without a leader");
  }
  PartitionTarget target = target_for(*topic);
  target.replicas = original;
  target.adding_replicas = std::vector<BrokerId>{};
  target.removing_replicas = std::vector<BrokerId>{};
  BrokerView view(*image_);
  PartitionDecision decided = decide_partition(tp.topic, tp.partition, *current, target, view);
  RecordBatch records;
  if (decided.change) records.push_back(*decided.change);
  return records;
}

}  // namespace mq::metadata
