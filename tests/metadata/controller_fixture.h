// A controller over an image that applies every batch it decides, as the
// quorum would once the batch commits; brokers heartbeat on demand.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <set>

#include "metadata/controller.h"

namespace mq::metadata {

class ControllerHarness {
 public:
  explicit ControllerHarness(ControllerConfig config = {})
      : image_(std::make_shared<MetadataImage>()),
        controller_(std::make_unique<Controller>(config, image_)) {}

  Controller& controller() { return *controller_; }
  const MetadataImage& image() const { return *image_; }
  uint64_t index() const { return index_; }
  int64_t now = 1'000'000;

  // Applies the batch at the next raft index; an apply failure fails the test.
  uint64_t commit(const RecordBatch& batch) {
    if (batch.empty()) return index_;
    auto next = std::make_shared<MetadataImage>(*image_);
    Status status = next->apply(batch, ++index_);
    EXPECT_TRUE(status.is_ok()) << status.to_string();
    if (status.is_ok()) {
      image_ = next;
      controller_->update_image(image_);
    }
    return index_;
  }
  template <class T>
  T commit(Result<Decision<T>> decision) {
    EXPECT_TRUE(decision.is_ok()) << decision.status().to_string();
    if (!decision.is_ok()) return T{};
    commit(decision->records);
    return decision->response;
  }
  void commit(Result<RecordBatch> batch) {
    EXPECT_TRUE(batch.is_ok()) << batch.status().to_string();
    if (batch.is_ok()) commit(*batch);
  }

  // Registers, then heartbeats until unfenced; returns the broker epoch.
  int64_t start_broker(BrokerId id, std::string rack = "", bool clean = true) {
    uint64_t incarnation = ++incarnations_;
    Result<RecordBatch> batch =
        controller_->register_broker({id, incarnation, "tcp://127.0.0.1:1", rack, clean}, now);
    EXPECT_TRUE(batch.is_ok()) << batch.status().to_string();
    int64_t epoch = static_cast<int64_t>(commit(*batch));
    live_[id] = epoch;
    heartbeat(id);
    EXPECT_FALSE(image_->broker(id)->fenced);
    return epoch;
  }
  // Registers without heartbeating: the broker stays fenced.
  int64_t register_only(BrokerId id, bool clean) {
    uint64_t incarnation = ++incarnations_;
    Result<RecordBatch> batch =
        controller_->register_broker({id, incarnation, "tcp://127.0.0.1:1", "", clean}, now);
    EXPECT_TRUE(batch.is_ok()) << batch.status().to_string();
    int64_t epoch = static_cast<int64_t>(commit(*batch));
    live_.erase(id);
    return epoch;
  }
  HeartbeatResponse heartbeat(BrokerId id) {
    live_[id] = image_->broker(id)->broker_epoch;
    return commit(controller_->broker_heartbeat({id, live_[id], index_}, now));
  }
  void stop_heartbeating(BrokerId id) { live_.erase(id); }
  // Moves time forward in steps, live brokers heartbeating, ticking each step.
  void advance(int64_t ms, int64_t step_ms = 500) {
    for (int64_t t = 0; t < ms; t += step_ms) {
      now += step_ms;
      for (auto [id, epoch] : std::map<BrokerId, int64_t>(live_)) heartbeat(id);
      commit(controller_->tick(now));
    }
  }
  const PartitionState& partition(const std::string& topic, int32_t p) const {
    const PartitionState* state = image_->partition(topic, p);
    EXPECT_NE(state, nullptr);
    return *state;
  }
  void create(const std::string& name, std::vector<std::vector<BrokerId>> assignment,
              std::vector<ConfigEntry> configs = {}) {
    CreateTopicRequest request{name, -1, -1, std::move(configs), std::move(assignment)};
    commit(controller_->create_topic(request));
  }
  // The leader of a partition asks for a new ISR.
  Result<Decision<PartitionState>> alter_isr(const std::string& topic, int32_t p,
                                             std::vector<BrokerId> isr) {
    const PartitionState& s = partition(topic, p);
    return controller_->alter_partition({s.leader, image_->broker(s.leader)->broker_epoch, topic, p,
                                         s.leader_epoch, s.partition_epoch, std::move(isr)});
  }
  // Replaces the controller, as a failover to another voter would.
  void new_controller(ControllerConfig config) {
    controller_ = std::make_unique<Controller>(config, image_);
  }

 private:
  std::shared_ptr<const MetadataImage> image_;
  std::unique_ptr<Controller> controller_;
  uint64_t index_ = 0;
  uint64_t incarnations_ = 1000;
  std::map<BrokerId, int64_t> live_;
};

}  // namespace mq::metadata
