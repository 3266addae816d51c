// ClusterMember: quorum member, controller when leading, broker lifecycle.
#include "broker/cluster_member.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "base/random_id.h"

namespace mq::broker {
namespace {

quorum::QuorumConfig quorum_config(const BrokerConfig& config) {
  const ClusterConfig& cluster = config.cluster;
  quorum::QuorumConfig q;
  q.id = config.node_id;
  for (const QuorumMember& m : cluster.voters) q.voters[m.id] = m.endpoint();
  for (const QuorumMember& m : cluster.observers) q.observers[m.id] = m.endpoint();
  const QuorumMember* self = cluster.member(config.node_id);
  q.listen_endpoint = !cluster.quorum_listener.empty() ? cluster.quorum_listener
                      : self != nullptr                ? self->endpoint()
                                                       : "";
  if (cluster.voters.empty()) {
    // No cluster.voters: a cluster of one, this node its only voter. Nobody
    // connects to its quorum listener until other nodes join, so without
    // listeners.quorum it takes any free loopback port.
    if (q.listen_endpoint.empty()) q.listen_endpoint = "tcp://127.0.0.1:0";
    q.voters[config.node_id] = q.listen_endpoint;
  }
  q.storage_dir = config.data_dir + "/__quorum";
  q.tick_ms = cluster.quorum_tick_ms;
  q.election_timeout_ms = cluster.quorum_election_timeout_ms;
  q.heartbeat_interval_ms = cluster.quorum_tick_ms;
  q.snapshot_every_entries = static_cast<uint64_t>(cluster.quorum_snapshot_every_entries);
  q.random_seed = random_id();
  q.curve_server = {.secret_key = config.curve_keys.secret_key};
  q.curve_client = broker_curve_client(config);
  if (config.principals)
    q.authenticator = std::make_shared<transport::BrokersOnly>(config.principals);
  return q;
}

ClusterControllerConfig controller_config(const BrokerConfig& config) {
  ClusterControllerConfig c;
  c.decisions.broker_session_timeout_ms = config.cluster.broker_session_timeout_ms;
  c.decisions.unclean_leader_election = config.cluster.unclean_leader_election;
  c.decisions.min_insync_replicas = config.min_insync_replicas;
  c.decisions.auto_leader_rebalance = config.cluster.auto_leader_rebalance;
  c.decisions.leader_rebalance_interval_ms = config.cluster.leader_rebalance_interval_ms;
  c.decisions.seed = random_id();
  c.tick_interval_ms = std::max(config.cluster.broker_heartbeat_interval_ms / 2, 10);
  return c;
}

}  // namespace

ClusterMember::ClusterMember(const BrokerConfig& config, ClusterMemberOptions options)
    : config_(config), options_(std::move(options)), incarnation_id_(random_id()) {
  quorum_ = std::make_unique<quorum::QuorumService>(quorum_config(config_), store_);
  controller_ = std::make_unique<ClusterController>(controller_config(config_), *quorum_, store_);
  quorum_->set_controller_handler(
      [this](quorum::NodeId from, Bytes request, quorum::ReplyFn reply) {
        controller_->handle(from, std::move(request), std::move(reply));
      });
  store_.set_leader_listener([this](uint64_t, quorum::NodeId, bool am_controller) {
    controller_->set_active(am_controller);
  });
  store_.set_image_listener([this] {
    {
      std::lock_guard lock(mu_);
      image_changed_ = true;
    }
    cv_.notify_all();
  });
}

ClusterMember::~ClusterMember() {
  stop();
}

void ClusterMember::set_change_handler(ChangeHandler handler) {
  on_changes_ = std::move(handler);
}

Status ClusterMember::start() {
  handed_over_ = std::make_shared<metadata::MetadataImage>();
  MQ_RETURN_IF_ERROR(quorum_->start());
  thread_ = std::thread([this] { run(); });
  return Status::ok();
}

void ClusterMember::stop() {
  {
    std::lock_guard lock(mu_);
    if (stop_) return;
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  controller_->stop();
  quorum_->stop();
}

void ClusterMember::run() {
  auto interval = std::chrono::milliseconds(config_.cluster.broker_heartbeat_interval_ms);
  // A new image is reported soon after it is handed over, since admin calls
  // wait for every broker to report their change; but heartbeats stay at
  // least this far apart, however fast the metadata changes.
  auto report_spacing = std::max(std::chrono::milliseconds(5), interval / 10);
  auto next_beat = std::chrono::steady_clock::now();
  auto last_beat = next_beat - interval;
  std::unique_lock lock(mu_);
  while (!stop_) {
    if (image_changed_) {
      image_changed_ = false;
      lock.unlock();
      hand_over_changes();
      lock.lock();
      if (broker_epoch_.load() != 0 && handed_over_->applied_index() > reported_offset_) {
        next_beat = std::min(next_beat, last_beat + report_spacing);
      }
      continue;
    }
    if (std::chrono::steady_clock::now() >= next_beat) {
      lock.unlock();
      heartbeat();
      lock.lock();
      last_beat = std::chrono::steady_clock::now();
      next_beat = last_beat + interval;
      continue;
    }
    cv_.wait_until(lock, next_beat);
  }
}

void ClusterMember::heartbeat() {
  // A call must end well before the next one is due, and before the session does.
  auto timeout = std::chrono::milliseconds(config_.cluster.broker_heartbeat_interval_ms);
  if (broker_epoch_.load() == 0) {
    // Registration has no session to keep yet, and is committed through the
    // quorum before it is answered: give it half a session rather than one
    // heartbeat interval, so a slow commit is not retried over and over.
    auto register_timeout =
        std::max(timeout, std::chrono::milliseconds(config_.cluster.broker_session_timeout_ms / 2));
    Result<RegisterBrokerReply> registered = call<RegisterBrokerReply>(
        CallKind::kRegisterBroker,
        metadata::BrokerRegistration{.broker_id = config_.node_id,
                                     .incarnation_id = incarnation_id_,
                                     .endpoint = options_.client_endpoint,
                                     .rack = config_.cluster.rack,
                                     .clean_shutdown = options_.clean_shutdown},
        register_timeout);
    if (!registered.is_ok()) {
      spdlog::debug("registering with the controller: {}", registered.status().to_string());
      return;
    }
    broker_epoch_ = registered->broker_epoch;
    spdlog::info("registered with the controller as broker {} (epoch {})", config_.node_id,
                 registered->broker_epoch);
    check_caught_up();
  }
  // What this broker acted on (its replicas opened, leaders and followers
  // set), not merely what its quorum member applied.
  uint64_t offset = handed_over_->applied_index();
  Result<metadata::HeartbeatResponse> beat = call<metadata::HeartbeatResponse>(
      CallKind::kBrokerHeartbeat,
      metadata::BrokerHeartbeat{.broker_id = config_.node_id,
                                .broker_epoch = broker_epoch_.load(),
                                .metadata_offset = offset},
      timeout);
  if (!beat.is_ok()) {
    const metadata::BrokerState* state = store_.image()->broker(config_.node_id);
    if (state != nullptr && state->incarnation_id != incarnation_id_ &&
        state->broker_epoch > broker_epoch_.load()) {
      // Someone registered under our id since: we are the stale one.
      spdlog::error("broker id {} was registered by another process (epoch {})", config_.node_id,
                    state->broker_epoch);
    }
    spdlog::debug("heartbeat: {}", beat.status().to_string());
    return;
  }
  reported_offset_ = offset;
  if (fenced_.exchange(beat->fenced) != beat->fenced) {
    spdlog::info("broker {} is {}", config_.node_id, beat->fenced ? "fenced" : "unfenced");
    check_caught_up();
  }
}

void ClusterMember::hand_over_changes() {
  std::shared_ptr<const metadata::MetadataImage> next = store_.image();
  if (next == handed_over_) return;
  std::vector<metadata::LocalPartitionChange> changes =
      metadata::local_changes(*handed_over_, *next, config_.node_id);
  handed_over_ = next;
  if (on_changes_) on_changes_(*next, changes);
  check_caught_up();
}

void ClusterMember::check_caught_up() {
  int64_t epoch = broker_epoch_.load();
  if (caught_up_.load() || epoch == 0 ||
      handed_over_->applied_index() < static_cast<uint64_t>(epoch)) {
    return;
  }
  // Unfenced in the image handed over: the leaderships the controller gave
  // back with the unfencing (the same batch) are in place too.
  const metadata::BrokerState* self = handed_over_->broker(config_.node_id);
  if (self == nullptr || self->broker_epoch != epoch || self->fenced) return;
  fenced_ = false;  // whichever comes first: this image or the heartbeat's answer
  caught_up_ = true;
  spdlog::info(
      "caught up with the cluster metadata (index {}, registered at {}) and unfenced: answering "
      "clients from it",
      handed_over_->applied_index(), epoch);
}

}  // namespace mq::broker
