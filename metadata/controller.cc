// The controller's broker lifecycle: registration, heartbeats and fencing,
// controlled shutdown, removal, and producer-id blocks.
#include "metadata/controller.h"

#include <algorithm>

namespace mq::metadata {
namespace {

Status invalid_request(std::string what) {
  return Status(ErrorCode::kInvalidRequest, std::move(what));
}

bool leads_anything(const MetadataImage& image, BrokerId id) {
  for (const auto& [name, topic] : image.topics()) {
    for (const PartitionState& p : topic.partitions) {
      if (p.leader == id) return true;
    }
  }
  return false;
}

bool involves(const PartitionState& p, BrokerId id) {
  auto has = [id](const std::vector<BrokerId>& ids) {
    return std::find(ids.begin(), ids.end(), id) != ids.end();
  };
  return p.leader == id || has(p.isr) || has(p.elr) || has(p.last_known_elr);
}

}  // namespace

Controller::Controller(ControllerConfig config, std::shared_ptr<const MetadataImage> image)
    : config_(config), image_(std::move(image)), random_state_(config.seed) {
  next_producer_id_ = image_->next_producer_id();
}

void Controller::update_image(std::shared_ptr<const MetadataImage> image) {
  image_ = std::move(image);
  next_producer_id_ = std::max(next_producer_id_, image_->next_producer_id());
  for (auto it = liveness_.begin(); it != liveness_.end();) {
    it = image_->broker(it->first) == nullptr ? liveness_.erase(it) : std::next(it);
  }
}

uint64_t Controller::next_random() {
  // splitmix64: deterministic for a given seed, so tests can predict it.
  uint64_t z = (random_state_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

Result<RecordBatch> Controller::initialize_cluster(const std::string& cluster_id) const {
  if (!image_->cluster_id().empty()) {
    return invalid_request("the cluster id is already " + image_->cluster_id());
  }
  if (cluster_id.empty() || cluster_id.size() > transport::kMaxStringBytes) {
    return invalid_request("a cluster id has 1 to 32767 bytes");
  }
  return RecordBatch{ClusterId{cluster_id}};
}

std::vector<PartitionDecision> Controller::decide_all(const BrokerView& view, RecordBatch& records,
                                                      const PartitionFilter& only) const {
  std::vector<PartitionDecision> decisions;
  for (const auto& [name, topic] : image_->topics()) {
    PartitionTarget target = target_for(topic);
    for (size_t i = 0; i < topic.partitions.size(); ++i) {
      const PartitionState& state = topic.partitions[i];
      if (!only(topic, state)) continue;
      PartitionDecision decision =
          decide_partition(name, static_cast<int32_t>(i), state, target, view);
      if (decision.change) {
        records.push_back(*decision.change);
        decisions.push_back(std::move(decision));
      }
    }
  }
  return decisions;
}

Result<const BrokerState*> Controller::current_broker(BrokerId id, int64_t epoch) const {
  const BrokerState* broker = image_->broker(id);
  if (broker == nullptr) {
    return Status(ErrorCode::kBrokerNotAvailable,
                  "broker " + std::to_string(id) + " is not registered");
  }
  if (epoch < broker->broker_epoch) {
    return invalid_request("STALE_BROKER_EPOCH: broker " + std::to_string(id) + " epoch " +
                           std::to_string(epoch) + " is older than its registration at " +
                           std::to_string(broker->broker_epoch) + "; register again");
  }
  if (epoch > broker->broker_epoch) {
    return Status(ErrorCode::kBrokerNotAvailable,
                  "broker " + std::to_string(id) + " epoch " + std::to_string(epoch) +
                      " is newer than the applied registration " +
                      std::to_string(broker->broker_epoch) + "; retry");
  }
  return broker;
}

Result<RecordBatch> Controller::register_broker(const BrokerRegistration& request, int64_t now_ms) {
  if (request.broker_id < 0) {
    return invalid_request("broker id " + std::to_string(request.broker_id) + " is negative");
  }
  if (request.endpoint.empty() || request.endpoint.size() > transport::kMaxStringBytes ||
      request.rack.size() > transport::kMaxStringBytes) {
    return invalid_request("broker " + std::to_string(request.broker_id) +
                           ": the endpoint must have 1 to 32767 bytes and the rack at most 32767");
  }
  const BrokerState* old = image_->broker(request.broker_id);
  if (old != nullptr && old->incarnation_id == request.incarnation_id) {
    return invalid_request("DUPLICATE_BROKER_REGISTRATION: broker " +
                           std::to_string(request.broker_id) + " incarnation " +
                           std::to_string(request.incarnation_id) +
                           " is already registered at epoch " + std::to_string(old->broker_epoch) +
                           "; heartbeat with that epoch");
  }
  RecordBatch records;
  // A new incarnation replaces the old: the old one is fenced first, leaving
  // every ISR and leadership; if the process lost data (unclean shutdown) it
  // also leaves every ELR and can never be elected from one.
  BrokerView view(*image_);
  view.fence(request.broker_id);
  if (!request.clean_shutdown) view.mark_lost_data(request.broker_id);
  if (old != nullptr && !old->fenced) {
    records.push_back(FenceBroker{request.broker_id, old->broker_epoch});
  }
  decide_all(view, records, [&](const TopicState&, const PartitionState& p) {
    return involves(p, request.broker_id);
  });
  records.push_back(RegisterBroker{request.broker_id, request.incarnation_id, request.endpoint,
                                   request.rack, request.clean_shutdown});
  liveness_[request.broker_id] = Liveness{request.incarnation_id, now_ms};
  return records;
}

Result<Decision<HeartbeatResponse>> Controller::broker_heartbeat(const BrokerHeartbeat& request,
                                                                 int64_t now_ms) {
  MQ_ASSIGN_OR_RETURN(const BrokerState* broker,
                      current_broker(request.broker_id, request.broker_epoch));
  Liveness& liveness = liveness_[broker->broker_id];
  uint64_t reported =
      liveness.incarnation_id == broker->incarnation_id ? liveness.metadata_offset : 0;
  liveness = Liveness{broker->incarnation_id, now_ms, std::max(reported, request.metadata_offset)};
  Decision<HeartbeatResponse> decision;
  decision.response.fenced = broker->fenced;
  decision.response.in_controlled_shutdown = broker->in_controlled_shutdown;
  decision.response.should_shut_down =
      broker->in_controlled_shutdown && !leads_anything(*image_, broker->broker_id);
  // Unfenced once it has applied the metadata log up to its own registration.
  bool caught_up = request.metadata_offset >= static_cast<uint64_t>(broker->broker_epoch);
  if (broker->fenced && !broker->in_controlled_shutdown && caught_up) {
    decision.records.push_back(UnfenceBroker{broker->broker_id, broker->broker_epoch});
    BrokerView view(*image_);
    view.unfence(broker->broker_id);
    // Leaderless partitions may now elect it (from the ELR, or unclean).
    decide_all(view, decision.records,
               [&](const TopicState&, const PartitionState& p) { return p.leader == kNoLeader; });
    decision.response.fenced = false;
  }
  return decision;
}

void Controller::heard_from(BrokerId id, int64_t at_ms) {
  const BrokerState* broker = image_->broker(id);
  if (broker == nullptr) return;
  auto it = liveness_.find(id);
  if (it == liveness_.end() || it->second.incarnation_id != broker->incarnation_id) {
    liveness_[id] = Liveness{broker->incarnation_id, at_ms};
    return;
  }
  it->second.last_heartbeat_ms = std::max(it->second.last_heartbeat_ms, at_ms);
}

RecordBatch Controller::tick(int64_t now_ms) {
  RecordBatch records;
  BrokerView view(*image_);
  std::vector<BrokerId> expired;
  for (const auto& [id, broker] : image_->brokers()) {
    auto it = liveness_.find(id);
    // A broker this controller has not heard from (new controller, or a
    // registration applied elsewhere) gets a full session from now.
    if (it == liveness_.end() || it->second.incarnation_id != broker.incarnation_id) {
      liveness_[id] = Liveness{broker.incarnation_id, now_ms};
      continue;
    }
    if (broker.fenced) continue;
    if (now_ms - it->second.last_heartbeat_ms >= config_.broker_session_timeout_ms) {
      records.push_back(FenceBroker{id, broker.broker_epoch});
      view.fence(id);
      expired.push_back(id);
    }
  }
  decide_all(view, records, [&](const TopicState&, const PartitionState& p) {
    if (p.leader == kNoLeader) return true;
    return std::any_of(expired.begin(), expired.end(),
                       [&](BrokerId id) { return involves(p, id); });
  });
  // A throttle outliving every reassignment would slow the next one
  // unannounced (Kafka leaves it to the operator, who forgets).
  if (image_->config(ConfigResource::kCluster, "", kReassignmentThrottle) != nullptr) {
    bool moving = false;
    for (const auto& [name, topic] : image_->topics()) {
      for (const PartitionState& p : topic.partitions) moving |= p.reassigning();
    }
    if (!moving) {
      records.push_back(
          Config{ConfigResource::kCluster, "", std::string(kReassignmentThrottle), std::nullopt});
    }
  }
  return records;
}

std::vector<BrokerId> Controller::brokers_behind(uint64_t metadata_offset) const {
  std::vector<BrokerId> behind;
  for (const auto& [id, broker] : image_->brokers()) {
    // A fenced broker serves nothing from its metadata, and one in
    // controlled shutdown is about to stop (heartbeating too): no one waits
    // for them.
    if (broker.fenced || broker.in_controlled_shutdown) continue;
    auto it = liveness_.find(id);
    bool caught_up = it != liveness_.end() && it->second.incarnation_id == broker.incarnation_id &&
                     it->second.metadata_offset >= metadata_offset;
    if (!caught_up) behind.push_back(id);
  }
  return behind;
}

Result<Decision<ControlledShutdownResponse>> Controller::controlled_shutdown(BrokerId broker_id,
                                                                             int64_t broker_epoch) {
  MQ_ASSIGN_OR_RETURN(const BrokerState* broker, current_broker(broker_id, broker_epoch));
  Decision<ControlledShutdownResponse> decision;
  if (!broker->in_controlled_shutdown) {
    decision.records.push_back(BrokerControlledShutdown{broker_id, broker_epoch});
  }
  BrokerView view(*image_);
  view.fence(broker_id);
  std::vector<PartitionDecision> moved = decide_all(
      view, decision.records,
      [&](const TopicState&, const PartitionState& p) { return involves(p, broker_id); });
  for (const PartitionDecision& d : moved) {
    if (d.change->leader == kLeaderUnchanged) continue;
    ++(d.next.leader == kNoLeader ? decision.response.partitions_offline
                                  : decision.response.leaderships_moved);
  }
  return decision;
}

Result<RecordBatch> Controller::unregister_broker(BrokerId broker_id) {
  const BrokerState* broker = image_->broker(broker_id);
  if (broker == nullptr) {
    return Status(ErrorCode::kBrokerNotAvailable,
                  "broker " + std::to_string(broker_id) + " is not registered");
  }
  if (!broker->fenced && !broker->in_controlled_shutdown) {
    return invalid_request("broker " + std::to_string(broker_id) +
                           " is alive and not shutting down; shut it down before removing it");
  }
  // Its replicas would wait for it for ever: they move first.
  std::vector<std::string> held;
  size_t count = 0;
  for (const auto& [name, topic] : image_->topics()) {
    for (size_t i = 0; i < topic.partitions.size(); ++i) {
      const PartitionState& p = topic.partitions[i];
      bool replica = std::find(p.replicas.begin(), p.replicas.end(), broker_id) != p.replicas.end();
      if (!replica && !involves(p, broker_id)) continue;
      if (++count <= 3) held.push_back(name + "-" + std::to_string(i));
    }
  }
  if (count > 0) {
    std::string list;
    for (const std::string& p : held) list += (list.empty() ? "" : ", ") + p;
    if (count > held.size()) list += " and " + std::to_string(count - held.size()) + " more";
    return invalid_request("broker " + std::to_string(broker_id) + " still holds " +
                           std::to_string(count) + " replica(s) (" + list +
                           "): move them to other brokers first (mqctl partition reassign)");
  }
  liveness_.erase(broker_id);
  return RecordBatch{UnregisterBroker{broker_id, broker->broker_epoch}};
}

Result<Decision<ProducerIdBlock>> Controller::allocate_producer_ids(BrokerId broker_id,
                                                                    int64_t broker_epoch) {
  MQ_RETURN_IF_ERROR(current_broker(broker_id, broker_epoch).status());
  int32_t size = config_.producer_id_block_size;
  if (next_producer_id_ > INT64_MAX - size) {
    return Status(ErrorCode::kUnknown, "producer ids are exhausted");
  }
  Decision<ProducerIdBlock> decision;
  decision.response = ProducerIdBlock{next_producer_id_, size};
  decision.records.push_back(ProducerIds{broker_id, broker_epoch, next_producer_id_, size});
  next_producer_id_ += size;
  return decision;
}

Result<std::optional<int16_t>> next_producer_epoch(int64_t producer_id, int16_t current,
                                                   int16_t requested) {
  if (requested == current) {
    if (current == INT16_MAX) return std::optional<int16_t>();
    return std::optional<int16_t>(static_cast<int16_t>(current + 1));
  }
  if (current > 0 && requested == current - 1) return std::optional<int16_t>(current);
  return Status(ErrorCode::kInvalidProducerEpoch,
                "producer " + std::to_string(producer_id) + " is at epoch " +
                    std::to_string(current) + ", not " + std::to_string(requested) +
                    ": another InitProducerId bumped it (this producer is fenced)");
}

Result<Decision<std::optional<int16_t>>> Controller::bump_producer_epoch(BrokerId broker_id,
                                                                         int64_t broker_epoch,
                                                                         int64_t producer_id,
                                                                         int16_t producer_epoch) {
  MQ_RETURN_IF_ERROR(current_broker(broker_id, broker_epoch).status());
  if (producer_id < 0 || producer_epoch < 0) {
    return invalid_request("producer id " + std::to_string(producer_id) + " and epoch " +
                           std::to_string(producer_epoch) + " must not be negative");
  }
  if (producer_id >= image_->next_producer_id()) {
    return Status(ErrorCode::kUnknownProducerId,
                  "producer id " + std::to_string(producer_id) + " was never handed out");
  }
  int16_t current = image_->producer_epoch(producer_id);
  MQ_ASSIGN_OR_RETURN(std::optional<int16_t> next,
                      next_producer_epoch(producer_id, current, producer_epoch));
  Decision<std::optional<int16_t>> decision;
  decision.response = next;
  if (next && *next != current) decision.records.push_back(ProducerEpoch{producer_id, *next});
  return decision;
}

}  // namespace mq::metadata
